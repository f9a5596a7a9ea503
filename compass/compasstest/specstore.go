package compasstest

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// specDigest is what the server keeps of a discarded spec document.
type specDigest struct {
	sum    string // hex SHA-256
	length int
}

// specStore implements WithDiscardSpecs: when on, spec documents are
// replaced by their digest before a record is stored.
type specStore struct {
	discard bool

	mu      sync.RWMutex
	digests map[string]specDigest // spec id → digest of the discarded data
}

func newSpecStore(discard bool) *specStore {
	return &specStore{discard: discard, digests: map[string]specDigest{}}
}

// compactAPI replaces the spec data of a freshly built API record by its
// digest when specs are discarded. The record must not be stored yet.
func (s *specStore) compactAPI(a *apiRecord) {
	if !s.discard || a == nil || a.spec == nil || a.spec.data == nil {
		return
	}
	sp := a.spec
	sum := sha256.Sum256([]byte(*sp.data))
	s.mu.Lock()
	s.digests[sp.id] = specDigest{sum: hex.EncodeToString(sum[:]), length: len(*sp.data)}
	s.mu.Unlock()
	a.spec = &specRecord{id: sp.id, typ: sp.typ, format: sp.format}
}

// compactBundle applies compactAPI to every API of a freshly built bundle.
func (s *specStore) compactBundle(b *bundleRecord) {
	if !s.discard || b == nil {
		return
	}
	for _, a := range b.apis {
		s.compactAPI(a)
	}
}

// digest returns the SHA-256 and length of a stored spec, from its data or,
// when the data was discarded, from what was kept of it.
func (s *specStore) digest(sp *specRecord) (sum string, length int) {
	if sp == nil {
		return "", 0
	}
	if sp.data != nil {
		h := sha256.Sum256([]byte(*sp.data))
		return hex.EncodeToString(h[:]), len(*sp.data)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.digests[sp.id]
	return d.sum, d.length
}

// describeSpecs fills SpecSHA256 and SpecLength of the APIs of app, which
// publicApp made from rec.
func (s *specStore) describeSpecs(app *Application, rec *appRecord) {
	for i, b := range rec.bundles {
		if i >= len(app.Bundles) {
			return
		}
		for j, a := range b.apis {
			if j >= len(app.Bundles[i].APIs) {
				break
			}
			pa := &app.Bundles[i].APIs[j]
			pa.SpecSHA256, pa.SpecLength = s.digest(a.spec)
		}
	}
}
