package triage

import (
	"sync"
)

// sequencer runs a step on works strictly in sequence order, without
// making any goroutine wait for its turn: submit parks a work, and the
// goroutine that submits the work the sequence is waiting for runs the
// step for it and for every parked work that follows. Only one goroutine
// runs steps at a time.
type sequencer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	next    uint64
	parked  map[uint64]*work
	running bool
	step    func(*work)
}

func newSequencer(step func(*work)) *sequencer {
	q := &sequencer{parked: map[uint64]*work{}, step: step}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// submit parks w and, unless another goroutine is running steps, runs
// them for as long as the next work in sequence has been submitted. The
// check for the next work and giving up the run are one critical
// section, so a work submitted meanwhile is never left parked.
func (q *sequencer) submit(w *work) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.parked[w.seq] = w
	if q.running {
		return
	}
	q.running = true
	for {
		n := q.parked[q.next]
		if n == nil {
			break
		}
		delete(q.parked, q.next)
		q.mu.Unlock()
		q.step(n)
		q.mu.Lock()
		n.done = true
		q.next++
		q.cond.Broadcast()
	}
	q.running = false
}

// takeDone reports whether w's step has run and, if so, makes w
// submittable again.
func (q *sequencer) takeDone(w *work) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	done := w.done
	w.done = false
	return done
}

// wait returns once w's step has run, and makes w submittable again.
func (q *sequencer) wait(w *work) {
	q.mu.Lock()
	for !w.done {
		q.cond.Wait()
	}
	w.done = false
	q.mu.Unlock()
}
