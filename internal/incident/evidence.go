package incident

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"

	"github.com/airlock-ir/airlock/internal/store"
)

// Custody actions.
const (
	CustodyCollected = "collected" // first stored
	CustodyAttached  = "attached"  // linked to an incident
	CustodyAccessed  = "accessed"  // read through the API
	CustodyExported  = "exported"  // copied out of Airlock
)

// EvidenceInput describes an upload.
type EvidenceInput struct {
	Name      string
	MediaType string
	Source    string
	MaxBytes  int64
}

// AttachEvidence streams r into the blob store and attaches it to the
// incident. The blob is written before the transaction: a crash in between
// leaves an unreferenced file, never a reference to a missing one.
func (s *Service) AttachEvidence(ctx context.Context, a Actor, incidentID string, in EvidenceInput, r io.Reader) (*Evidence, error) {
	var p problems
	checkName(&p, "name", in.Name, true)
	checkName(&p, "source", in.Source, false)
	if in.MediaType == "" {
		in.MediaType = "application/octet-stream"
	}
	if mt, _, err := mime.ParseMediaType(in.MediaType); err != nil {
		p.addf("media type: %q is not a media type", in.MediaType)
	} else {
		in.MediaType = mt
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	// Refuse early, before reading a possibly large body, if the incident
	// does not exist.
	if _, err := s.Get(ctx, incidentID); err != nil {
		return nil, err
	}
	sha, size, err := s.blobs.Put(r, in.MaxBytes)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	ev := &Evidence{
		ID: newID(), IncidentID: incidentID, SHA256: sha, Name: in.Name, MediaType: in.MediaType,
		Size: size, Source: in.Source, CollectedBy: a.Name, CollectedAt: now,
	}
	err = s.write(ctx, a, "incident.evidence.attach", incidentID, func(tx store.Tx) (any, error) {
		if _, err := tx.GetIncident(ctx, incidentID); err != nil {
			return nil, err
		}
		blob, err := tx.GetBlob(ctx, sha)
		if errors.Is(err, store.ErrNotFound) {
			blob = &store.Blob{SHA256: sha, Size: size, CreatedAt: now}
			if err := tx.PutBlob(ctx, blob); err != nil {
				return nil, err
			}
			if err := s.appendCustody(ctx, tx, sha, a, CustodyCollected, incidentID, in.Source); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		if err := tx.AttachEvidence(ctx, ev); err != nil {
			return nil, err
		}
		if err := s.appendCustody(ctx, tx, sha, a, CustodyAttached, incidentID, ev.Name); err != nil {
			return nil, err
		}
		_, err = s.appendEntry(ctx, tx, nil, incidentID, a, KindEvidenceAttached, evidenceBody(ev))
		return map[string]any{"sha256": sha, "size": size, "name": ev.Name}, err
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// evidenceBody is what the timeline records of an attachment; Verify checks
// the evidence metadata against it.
func evidenceBody(ev *Evidence) map[string]any {
	return map[string]any{
		"evidence": ev.ID, "sha256": ev.SHA256, "name": ev.Name, "media_type": ev.MediaType,
		"size": ev.Size, "source": ev.Source, "collected_by": ev.CollectedBy, "collected_at": ev.CollectedAt,
	}
}

// appendCustody adds an entry to a blob's custody chain.
func (s *Service) appendCustody(ctx context.Context, tx store.Tx, sha string, a Actor, action, incidentID, detail string) error {
	b, err := tx.GetBlob(ctx, sha)
	if err != nil {
		return err
	}
	c := &store.Custody{
		SHA256: sha, Seq: b.CustodyLen + 1, At: s.clock(), Actor: a.Name, Action: action,
		IncidentID: incidentID, Addr: a.Addr, Detail: detail, PrevHash: b.CustodyHead,
	}
	c.Hash = custodyHash(c)
	return tx.AppendCustody(ctx, c)
}

// EvidenceFile is an open evidence blob with what is known about it.
type EvidenceFile struct {
	*os.File
	Blob        *store.Blob
	Attachments []*Evidence
}

// OpenEvidence opens a blob for reading and records the access in its chain
// of custody and in the audit log: reading evidence is itself evidence.
func (s *Service) OpenEvidence(ctx context.Context, a Actor, sha string, action string) (*EvidenceFile, error) {
	if !ValidDigest(sha) {
		return nil, invalid("sha256: %q is not a lower-case hex SHA-256", sha)
	}
	if action != CustodyAccessed && action != CustodyExported {
		return nil, invalid("action: %q is not accessed or exported", action)
	}
	var out EvidenceFile
	err := s.write(ctx, a, "evidence."+action, sha, func(tx store.Tx) (any, error) {
		b, err := tx.GetBlob(ctx, sha)
		if err != nil {
			return nil, err
		}
		out.Blob = b
		if out.Attachments, err = tx.ListEvidenceByBlob(ctx, sha); err != nil {
			return nil, err
		}
		return nil, s.appendCustody(ctx, tx, sha, a, action, "", "")
	})
	if err != nil {
		return nil, err
	}
	f, err := s.blobs.Open(sha)
	if err != nil {
		return nil, fmt.Errorf("evidence %s is recorded but its file cannot be opened: %w", sha, err)
	}
	out.File = f
	return &out, nil
}

// Evidence lists what is attached to an incident.
func (s *Service) Evidence(ctx context.Context, incidentID string) ([]*Evidence, error) {
	var out []*Evidence
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetIncident(ctx, incidentID); err != nil {
			return err
		}
		var err error
		out, err = tx.ListEvidence(ctx, incidentID)
		return err
	})
	return out, err
}

// Custody returns a blob's chain of custody.
func (s *Service) Custody(ctx context.Context, sha string) ([]*store.Custody, error) {
	var out []*store.Custody
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := tx.GetBlob(ctx, sha); err != nil {
			return err
		}
		var err error
		out, err = tx.ListCustody(ctx, sha)
		return err
	})
	return out, err
}
