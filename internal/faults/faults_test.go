package faults_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kyma-incubator/open-connectors-job/internal/faults"
)

func TestQueue(t *testing.T) {
	var q faults.Queue[string, string]
	_, ok := q.Take("a", nil)
	assert.False(t, ok)

	q.Add("a", "twice", 2)
	q.Add("a", "always", 0)
	q.Add("b", "only x", 1)
	var got []string
	for range 4 {
		f, _ := q.Take("a", nil)
		got = append(got, f)
	}
	assert.Equal(t, []string{"twice", "twice", "always", "always"}, got, "in the order added; n uses, then the next")

	_, ok = q.Take("b", func(f string) bool { return f != "only x" })
	assert.False(t, ok, "a fault the match refuses does not apply")
	f, ok := q.Take("b", nil)
	assert.True(t, ok)
	assert.Equal(t, "only x", f)
	_, ok = q.Take("b", nil)
	assert.False(t, ok, "used up")

	q.Clear()
	_, ok = q.Take("a", nil)
	assert.False(t, ok)
}

func TestQueueConcurrentUse(t *testing.T) {
	var q faults.Queue[int, int]
	q.Add(1, 7, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, ok := q.Take(1, nil); ok {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 100, taken, "exactly the uses it was added with")
}
