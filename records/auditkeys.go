package records

import (
	"context"

	"waymark/audit"
)

// KeyedChainReport is what a verification with retired keys saw: the
// ChainReport and the ids of the keys the chain went through, oldest first
// (the last is the key the next entry must be MAC'd under).
type KeyedChainReport struct {
	ChainReport
	Keys []string
	// Current is the id of the key this instance appends under. When it
	// is not the last of Keys, the next append rotates the chain to it.
	Current string
}

// VerifyAuditKeys checks the whole audit chain from its checkpoint with
// the current key and the retired ones, across key rotations. A broken
// chain is a *Break naming the first bad entry (a tampered rotation entry,
// an entry under a key the chain had retired, or one under a key not
// configured are breaks too); any other error is a failure to read it.
func (r *Records) VerifyAuditKeys(ctx context.Context, retired [][]byte) (KeyedChainReport, error) {
	var rep KeyedChainReport
	var v *audit.ChainVerifier
	err := r.st.AuditChain(ctx, func(cp *audit.Checkpoint, e *audit.ChainEntry, reason string) error {
		if e == nil {
			rep.Checkpoint = cp
			var b *audit.Break
			if v, b = audit.NewChainVerifier(r.key, cp, retired...); b != nil {
				return b
			}
			return nil
		}
		if b := v.Next(*e, &reason); b != nil {
			return b
		}
		if rep.FirstSeq == 0 {
			rep.FirstSeq = e.Seq
		}
		rep.LastSeq = e.Seq
		return nil
	})
	if err != nil {
		return rep, err
	}
	rep.Head, rep.Entries = v.Head()
	rep.Keys, rep.Current = v.Keys(), audit.AuditKeyID(r.key)
	return rep, nil
}
