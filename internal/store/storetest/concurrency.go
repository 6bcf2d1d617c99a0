package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/airlock-ir/airlock/internal/store"
)

var concurrencyTests = []subtest{
	{"SerialisedWriters", testSerialisedWriters},
}

// Writers are serialised: a read-modify-write inside Update sees no
// concurrent change, so no increment is lost and none is refused.
func testSerialisedWriters(t *testing.T, s store.Store) {
	const workers, rounds = 8, 25
	id := createIncidents(t, s, 1)[0]
	start := getIncident(t, s, id).Version

	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				err := s.Update(t.Context(), func(tx store.Tx) error {
					inc, err := tx.GetIncident(t.Context(), id)
					if err != nil {
						return err
					}
					inc.Impact.AffectedUsers++
					return tx.UpdateIncident(t.Context(), inc)
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	inc := getIncident(t, s, id)
	if inc.Impact.AffectedUsers != workers*rounds {
		t.Errorf("AffectedUsers = %d after %d increments", inc.Impact.AffectedUsers, workers*rounds)
	}
	if inc.Version != start+workers*rounds {
		t.Errorf("Version = %d, want %d", inc.Version, start+workers*rounds)
	}
}
