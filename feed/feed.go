// Package feed reads another directory's Open Referral UK API: it pages
// through GET /services and reads each service whole from GET
// /services/{id}, as the ORUK API specification defines them, and hands
// the records to signpost's importer. It is an adapter: the only place
// Waymark makes HTTP requests to other directories.
//
// A feed is read completely before anything is stored: a page or a
// service that fails, times out or answers something that is not ORUK
// JSON stops the read with an error, so a broken feed changes nothing. A
// single broken record (ORUK JSON that fails validation, or a listed
// service that answers 404) is not a broken feed: it comes back as an
// ImportItem with its error, and the rest still import.
package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"waymark/signpost"
	"waymark/signpost/oruk"
)

// ErrFeed wraps every error that makes a whole feed unusable.
var ErrFeed = errors.New("feed")

// Client reads ORUK feeds. The zero value is usable.
type Client struct {
	// HTTP makes the requests; nil means a client with Timeout.
	HTTP *http.Client
	// Timeout bounds each request when HTTP is nil; default 30 s.
	Timeout time.Duration
	// PerPage is asked of the feed; default 100.
	PerPage int
	// MaxPages stops a feed that never ends; default 10,000.
	MaxPages int
	// MaxBytes bounds one response; default 32 MiB.
	MaxBytes int64
}

// Result is a whole feed as read.
type Result struct {
	Base  string            // the API base the feed was read from
	Pages int               // pages read
	Items []oruk.ImportItem // one per service listed, in order
	IDs   map[string]bool   // every id the feed listed, good or bad
}

// Base returns the API base of a feed URL: the URL without a trailing
// "/services" or slash, so that both the API's root and its /services
// address work.
func Base(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %q is not an http(s) URL", ErrFeed, raw)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/services")
	return strings.TrimRight(u.String(), "/"), nil
}

// Redacted is a feed URL fit for a log or a report: any password in it is
// replaced by xxxxx.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}

// listPage is the part of a /services page the client needs.
type listPage struct {
	TotalPages *int              `json:"total_pages"`
	LastPage   *bool             `json:"last_page"`
	Contents   []json.RawMessage `json:"contents"`
	Content    []json.RawMessage `json:"content"` // the older ORUK spelling
}

// pageInfo is a /services page as read: the items' ids in order ("" for
// an item without a string id), and whether it is the last.
type pageInfo struct {
	ids        []string
	last       bool
	totalPages int
}

// parsePage reads one /services page. An answer that is not a JSON
// object with a contents (or content) array is an error. An empty page is
// the last, whatever it says: some APIs answer a page past the end that
// way.
func parsePage(body []byte) (pageInfo, error) {
	var p listPage
	if err := json.Unmarshal(body, &p); err != nil {
		return pageInfo{}, fmt.Errorf("not an ORUK page: %w", err)
	}
	items := p.Contents
	if items == nil {
		items = p.Content
	}
	if items == nil {
		return pageInfo{}, errors.New("not an ORUK page: no contents")
	}
	out := pageInfo{last: len(items) == 0 || (p.LastPage != nil && *p.LastPage)}
	if p.TotalPages != nil {
		out.totalPages = *p.TotalPages
	}
	for _, raw := range items {
		var head struct {
			ID any `json:"id"`
		}
		id := ""
		if json.Unmarshal(raw, &head) == nil {
			id, _ = head.ID.(string)
		}
		out.ids = append(out.ids, strings.TrimSpace(id))
	}
	return out, nil
}

// Fetch reads the feed at rawURL: every page of /services, then each
// listed service from /services/{id}.
func (c *Client) Fetch(ctx context.Context, rawURL string) (Result, error) {
	base, err := Base(rawURL)
	if err != nil {
		return Result{}, err
	}
	res := Result{Base: base, IDs: map[string]bool{}}
	perPage := c.PerPage
	if perPage <= 0 {
		perPage = 100
	}
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = 10000
	}
	var ids []string
	for page := 1; ; page++ {
		if page > maxPages {
			return Result{}, fmt.Errorf("%w: more than %d pages", ErrFeed, maxPages)
		}
		body, err := c.get(ctx, base+"/services?page="+strconv.Itoa(page)+"&per_page="+strconv.Itoa(perPage))
		if err != nil {
			return Result{}, fmt.Errorf("%w: page %d: %w", ErrFeed, page, err)
		}
		p, err := parsePage(body)
		if err != nil {
			return Result{}, fmt.Errorf("%w: page %d: %w", ErrFeed, page, err)
		}
		res.Pages = page
		fresh := 0
		for i, id := range p.ids {
			if id == "" {
				res.Items = append(res.Items, oruk.ImportItem{Index: len(res.Items),
					Err: fmt.Errorf("%w: page %d item %d: no id", oruk.ErrFormat, page, i)})
				continue
			}
			if !res.IDs[id] {
				res.IDs[id] = true
				ids = append(ids, id)
				fresh++
			}
		}
		// A page of nothing new: the API ignores page (and would answer
		// the same page for ever) or has run past its end.
		if p.last || (p.totalPages > 0 && page >= p.totalPages) || (len(p.ids) > 0 && fresh == 0) {
			break
		}
	}
	for _, id := range ids {
		body, err := c.get(ctx, base+"/services/"+url.PathEscape(id))
		var notFound *statusError
		switch {
		case errors.As(err, &notFound) && notFound.code == http.StatusNotFound:
			res.Items = append(res.Items, oruk.ImportItem{Index: len(res.Items), ID: id,
				Err: fmt.Errorf("%w: listed but not found (404)", oruk.ErrFormat)})
			continue
		case err != nil:
			return Result{}, fmt.Errorf("%w: service %s: %w", ErrFeed, id, err)
		}
		items, err := oruk.Decode(bytes.NewReader(body))
		switch {
		case err != nil:
			// Not ORUK JSON at all (an HTML error page behind a 200, a
			// cut-off answer): the feed is broken, not the record.
			return Result{}, fmt.Errorf("%w: service %s: %w", ErrFeed, id, err)
		case len(items) != 1:
			res.Items = append(res.Items, oruk.ImportItem{Index: len(res.Items), ID: id,
				Err: fmt.Errorf("%w: /services/%s holds %d records, not one", oruk.ErrFormat, id, len(items))})
		default:
			it := items[0]
			it.Index = len(res.Items)
			if it.Err == nil && !strings.EqualFold(signpost.ORUKID(it.Service.ID), signpost.ORUKID(id)) && it.Service.ID != id {
				it.Service, it.Err = nil, fmt.Errorf("%w: /services/%s answered another service", oruk.ErrFormat, id)
			}
			if it.ID == "" {
				it.ID = id
			}
			res.Items = append(res.Items, it)
		}
	}
	return res, nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "HTTP status " + strconv.Itoa(e.code) }

func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		t := c.Timeout
		if t <= 0 {
			t = 30 * time.Second
		}
		hc = &http.Client{Timeout: t}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		// The URL is a public feed address; the error may repeat it, which
		// is fine, and holds nothing personal.
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, &statusError{resp.StatusCode}
	}
	limit := c.MaxBytes
	if limit <= 0 {
		limit = 32 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("answer larger than %d bytes", limit)
	}
	return body, nil
}
