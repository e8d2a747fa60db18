package source

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/outsider-sec/outsider/internal/inflate"
)

// The checkpoints of a gzip file or a deflated zip member (index.go) each
// hold the 32 KiB of output before them: 8 MiB per GB inflated, kept until
// the second look. Held in memory, a 50 GB export would hold 400 MB of
// them. A WindowStore keeps them within a budget instead: the first
// windowBudget bytes in memory, the rest in one temporary file (unlinked
// at once where the platform allows, so that nothing is left behind
// however the run ends), read back with one pread when a restart needs
// one. When no file can be made or written, it thins the checkpoints
// instead (every 2nd kept, then every 4th...): a restart then inflates
// further, nothing else changes.
//
// Spilling costs a 32 KiB write every 4 MiB inflated past the budget
// (~35 ms per GB, under 1% of inflating it) and a pread per restart;
// compressing the windows instead (flate level 1: 3.9× on generated UAL,
// ~50 ms per GB) would cost more and still let memory grow with the
// input (bench/README.md, stop 18).

// windowBudget is how many bytes of windows a store keeps in memory: the
// windows of 2 GB inflated (a 1 GB export needs 8 MiB and never touches
// the file). A variable, so that tests can make it small.
var windowBudget int64 = 16 << 20

// SetWindowBudget sets the memory budget of the stores made from now on
// and returns what restores it: for tests of other packages that need
// small files' checkpoints spilled or thinned.
func SetWindowBudget(n int64) (restore func()) {
	old := windowBudget
	windowBudget = n
	return func() { windowBudget = old }
}

// windowSize is the largest window, and the size of a slot in the file.
const windowSize = 32 << 10

// WindowStore keeps the windows of the checkpoints of the gzip files and
// zip members a Read (or, through Options.Windows, several) indexes,
// within a memory budget (see above). It is safe for concurrent use:
// background inflaters add windows while the foreground reads.
type WindowStore struct {
	dir    string
	budget int64

	mu      sync.Mutex
	slots   []windowSlot
	held    int64  // bytes of windows in memory
	stride  int    // >1: only checkpoints whose number is a multiple are kept
	file    *spill // the temporary file, made at the first window over budget
	free    []int64
	fileErr error // why no file could be made or written (then thin)
	dropped bool  // windows were dropped for want of room
	noted   bool  // that was reported
	closed  bool
}

// windowSlot is where one window is: in memory, at an offset of the file,
// or gone (thinned, or its index dropped).
type windowSlot struct {
	mem   []byte
	off   int64
	n     int32
	num   int32 // the checkpoint's number in its stream
	where uint8
}

const (
	slotGone uint8 = iota
	slotMem
	slotFile
)

// spill is the temporary file, apart from the store so that the store's
// cleanup can close it.
type spill struct {
	f    *os.File
	name string // set when it could not be unlinked at once
	size int64
}

func (s *spill) close() {
	if s.f == nil {
		return
	}
	s.f.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	s.f = nil
}

// NewWindowStore returns a store that spills to a temporary file in dir
// (empty: os.TempDir()). Close removes the file; a store no longer
// referenced is closed when the garbage collector finds it so.
func NewWindowStore(dir string) *WindowStore {
	s := &WindowStore{dir: dir, budget: windowBudget, stride: 1, file: &spill{}}
	runtime.AddCleanup(s, func(f *spill) { f.close() }, s.file)
	return s
}

// Close removes the temporary file and drops every window: the indexes
// of the gzip files and zip members read with the store cannot be read
// by any more (ReadIndexed then returns an error).
func (s *WindowStore) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.file.close()
	s.slots, s.free, s.held = nil, nil, 0
}

// put keeps window w of checkpoint n of a stream and returns its
// reference (its slot plus 1): the streams' inflate.Keeper.
func (s *WindowStore) put(n int, w []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0 // never read: the index is not built after Close
	}
	sl := windowSlot{n: int32(len(w)), num: int32(n)}
	switch {
	case s.stride > 1 && n%s.stride != 0:
	case s.held+int64(len(w)) <= s.budget:
		sl.mem, sl.where = w, slotMem
		s.held += int64(len(w))
	case s.write(&sl, w):
	default:
		s.thin(int64(len(w)))
		if n%s.stride == 0 && s.held+int64(len(w)) <= s.budget {
			sl.mem, sl.where = w, slotMem
			s.held += int64(len(w))
		} else {
			s.dropped = true
		}
	}
	s.slots = append(s.slots, sl)
	return int64(len(s.slots))
}

// write puts w in the file, making it first if need be; false when no
// file can be made or written.
func (s *WindowStore) write(sl *windowSlot, w []byte) bool {
	if s.fileErr != nil || len(w) > windowSize {
		return false
	}
	f := s.file
	if f.f == nil {
		fh, err := os.CreateTemp(s.dir, "outsider-windows-*")
		if err != nil {
			s.fileErr = err
			return false
		}
		f.f = fh
		if os.Remove(fh.Name()) != nil {
			f.name = fh.Name()
		}
	}
	off := f.size
	if k := len(s.free); k > 0 {
		off = s.free[k-1]
	}
	if _, err := f.f.WriteAt(w, off); err != nil {
		s.fileErr = err
		return false
	}
	if off == f.size {
		f.size += windowSize
	} else {
		s.free = s.free[:len(s.free)-1]
	}
	sl.off, sl.where = off, slotFile
	return true
}

// thin doubles the stride until the windows in memory leave room for
// need more bytes, dropping those of the checkpoints it leaves out.
func (s *WindowStore) thin(need int64) {
	if need > s.budget {
		return // a budget smaller than a window (tests): drop just this one
	}
	s.dropped = true
	for s.held+need > s.budget && s.stride < 1<<30 {
		s.stride *= 2
		for i := range s.slots {
			sl := &s.slots[i]
			if sl.where == slotMem && int(sl.num)%s.stride != 0 {
				s.held -= int64(len(sl.mem))
				*sl = windowSlot{num: sl.num}
			}
		}
	}
}

// has says whether the window of reference ref is still kept (0: the
// checkpoint has none to keep). In a closed store every window is said
// to be, so that window, not a silent read from the start, tells of it.
func (s *WindowStore) has(ref int64) bool {
	if ref == 0 {
		return true
	}
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed || ref <= int64(len(s.slots)) && s.slots[ref-1].where != slotGone
}

// errStoreClosed says an index was read after its store was closed.
var errStoreClosed = errors.New("checkpoints of compressed inputs already released")

// window returns the window of reference ref: the one in memory (not to
// be modified), or the one in the file read into buf (of windowSize).
func (s *WindowStore) window(ref int64, buf []byte) ([]byte, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errStoreClosed
	}
	var sl windowSlot
	if ref > 0 && ref <= int64(len(s.slots)) {
		sl = s.slots[ref-1]
	}
	f := s.file.f
	s.mu.Unlock()
	switch sl.where {
	case slotMem:
		return sl.mem, nil
	case slotFile:
		// The file is not closed meanwhile but by Close, which a reader
		// of an index does not race with.
		if _, err := f.ReadAt(buf[:sl.n], sl.off); err != nil {
			return nil, fmt.Errorf("reading a checkpoint back from %s: %w", f.Name(), err)
		}
		return buf[:sl.n], nil
	}
	return nil, errors.New("checkpoint's window not kept")
}

// release drops the windows of checkpoints no index will use (a stream
// not indexed after all), freeing their memory or file slots.
func (s *WindowStore) release(cps []inflate.Checkpoint) {
	if s == nil {
		return // a run with nothing indexed (Options.NoIndex)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cp := range cps {
		ref := cp.Ref
		if ref == 0 || ref > int64(len(s.slots)) {
			continue
		}
		sl := &s.slots[ref-1]
		switch sl.where {
		case slotMem:
			s.held -= int64(len(sl.mem))
		case slotFile:
			s.free = append(s.free, sl.off)
		}
		*sl = windowSlot{num: sl.num}
	}
}

// thinned returns, once, the warning that checkpoints were dropped for
// want of a temporary file; ok is false otherwise.
func (s *WindowStore) thinned() (p Problem, ok bool) {
	if s == nil {
		return Problem{}, false // a run with nothing indexed (Options.NoIndex)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noted || !s.dropped {
		return Problem{}, false
	}
	s.noted = true
	dir := s.dir
	if dir == "" {
		dir = os.TempDir()
	}
	return Problem{Path: dir, Warning: true, Reason: fmt.Sprintf(
		"could not spill the checkpoints of compressed inputs to this folder (%v), so fewer of them were kept: reading records again (what was touched) inflates more, nothing is missing; give --temp-dir or TMPDIR a folder with space",
		s.fileErr)}, true
}
