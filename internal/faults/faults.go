// Package faults is the fault queue shared by the module's fakes
// (openconnectors/octest, compass/compasstest, ocsync/ocsynctest), so that
// their faults behave alike: faults are added per target and matched in the
// order added; one added with times 0 applies to every matching call until
// the queue is cleared, one with times n > 0 to the next n matching calls.
package faults

import "sync"

// Queue holds faults of type F by target K. The zero value is empty and
// ready; it is safe for concurrent use.
type Queue[K comparable, F any] struct {
	mu    sync.Mutex
	byKey map[K][]*entry[F]
}

type entry[F any] struct {
	fault F
	left  int // remaining uses; -1 for every call
}

// Add queues fault for target k, for times matching calls (0: every one).
func (q *Queue[K, F]) Add(k K, fault F, times int) {
	left := times
	if left <= 0 {
		left = -1
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byKey == nil {
		q.byKey = map[K][]*entry[F]{}
	}
	q.byKey[k] = append(q.byKey[k], &entry[F]{fault: fault, left: left})
}

// Clear removes every fault.
func (q *Queue[K, F]) Clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.byKey)
}

// Take returns the first fault of target k that match accepts (nil accepts
// every fault) and consumes one of its uses; false when none applies.
func (q *Queue[K, F]) Take(k K, match func(F) bool) (F, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	list := q.byKey[k]
	for i, e := range list {
		if match != nil && !match(e.fault) {
			continue
		}
		if e.left > 0 {
			e.left--
			if e.left == 0 {
				q.byKey[k] = append(list[:i:i], list[i+1:]...)
			}
		}
		return e.fault, true
	}
	var none F
	return none, false
}
