package push

import "time"

// MaxFrame is the largest frame a client may send; a larger one closes the
// connection with CloseTooBig.
const MaxFrame = 64 << 10

// Limits tune a Hub. Zero fields take the defaults in DefaultLimits.
type Limits struct {
	// HelloTimeout is how long a new socket has to send its hello.
	HelloTimeout time.Duration
	// Heartbeat is how often the hub sends each socket a heartbeat frame
	// (which the page sees: nothing for 25 s means it is not live) and a
	// ping. PongWait is how long it waits for any frame or pong before
	// giving up on the socket.
	Heartbeat time.Duration
	PongWait  time.Duration
	// WriteWait bounds the writing of each batch of queued frames.
	WriteWait time.Duration
	// LagLimit bounds how far behind a socket may fall: a ping still
	// unanswered that long after it was queued means the client has not
	// read what went before it (however much the kernel buffered), and
	// the socket is closed with CloseTryAgain to resume with since.
	LagLimit time.Duration
	// Queue is how many frames may wait for one socket; a socket that
	// falls further behind is closed with CloseTryAgain and resumes.
	Queue int
	// ReplayCap is the most events replayed to a reconnecting client; a
	// larger gap gets a snapshot instead.
	ReplayCap int
	// Block is how long one read of the events stream waits.
	Block time.Duration
	// ReadBatch is the most events taken from the stream in one read.
	ReadBatch int
	// FrameRate and FrameBurst bound the frames a client may send besides
	// one receipt per event it was sent.
	FrameRate  float64
	FrameBurst int
	// SessionCheck is how often each socket's session is re-read, besides
	// the revocations announced on pub/sub.
	SessionCheck time.Duration
	// ExclusionTTL is how long a case's exclusion list is cached.
	ExclusionTTL time.Duration
	// PresenceTTL is how long a presence entry lives without a refresh;
	// the hub refreshes every third of it.
	PresenceTTL time.Duration
}

// DefaultLimits are the limits a zero field takes.
func DefaultLimits() Limits {
	return Limits{
		HelloTimeout: 5 * time.Second,
		Heartbeat:    10 * time.Second,
		PongWait:     60 * time.Second,
		WriteWait:    5 * time.Second,
		LagLimit:     15 * time.Second,
		Queue:        1024,
		ReplayCap:    1000,
		Block:        2 * time.Second,
		ReadBatch:    512,
		FrameRate:    20,
		FrameBurst:   100,
		SessionCheck: 30 * time.Second,
		ExclusionTTL: 5 * time.Second,
		PresenceTTL:  90 * time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.HelloTimeout, d.HelloTimeout)
	set(&l.Heartbeat, d.Heartbeat)
	set(&l.PongWait, d.PongWait)
	set(&l.WriteWait, d.WriteWait)
	set(&l.LagLimit, d.LagLimit)
	set(&l.Block, d.Block)
	set(&l.SessionCheck, d.SessionCheck)
	set(&l.ExclusionTTL, d.ExclusionTTL)
	set(&l.PresenceTTL, d.PresenceTTL)
	if l.Queue <= 0 {
		l.Queue = d.Queue
	}
	if l.ReplayCap <= 0 {
		l.ReplayCap = d.ReplayCap
	}
	if l.ReadBatch <= 0 {
		l.ReadBatch = d.ReadBatch
	}
	// One read's batch goes to a socket at once: a queue shorter than
	// that would drop healthy clients.
	l.Queue = max(l.Queue, l.ReadBatch)
	if l.FrameRate <= 0 {
		l.FrameRate = d.FrameRate
	}
	if l.FrameBurst <= 0 {
		l.FrameBurst = d.FrameBurst
	}
	return l
}
