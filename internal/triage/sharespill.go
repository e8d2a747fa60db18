package triage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/outsider-sec/outsider/internal/audit"
)

// Sharing records are aggregated per target, and only the targets that
// turn out to be identities (accounts that signed in) are ever reported;
// which ones those are is known only at the end. A tenant shares with
// many people who never sign in: the generated 4 GB export names about
// 70,000 one-off targets, 58 MB of evidence. So the aggregates keep at
// most defaultSpillShares targets in memory (divided among their
// shards); sharing records for any further
// target are appended to a temporary file and folded in at the end, for
// the identities only (readSpilledShares). The result is the same: counts
// are sums and evidence the K earliest, whatever the order.

// defaultSpillShares is the number of sharing targets the aggregates keep
// in memory before they spill (each of the aggShards shards keeps its
// share of it).
const defaultSpillShares = 1024

// shareLog is one aggregate shard's spilled sharing records.
type shareLog struct {
	f     *os.File
	name  string // set when the file could not be unlinked at once
	w     *bufio.Writer
	n     int64
	tmp   []byte
	ipBuf []byte
}

func newShareLog(dir string) (*shareLog, error) {
	f, err := os.CreateTemp(dir, "outsider-shares-*")
	if err != nil {
		return nil, err
	}
	l := &shareLog{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	if os.Remove(f.Name()) != nil {
		l.name = f.Name()
	}
	return l, nil
}

// add appends one sharing record: its canonical target, then what the
// evidence keeps of it.
func (l *shareLog) add(target []byte, op string, ev *audit.Event, file int32, line int64) {
	b := l.tmp[:0]
	field := func(v []byte) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	field(target)
	field([]byte(op))
	b = binary.AppendVarint(b, ev.Time)
	b = binary.AppendUvarint(b, uint64(file))
	b = binary.AppendVarint(b, line)
	var ip []byte
	if ev.NIPs > 0 {
		l.ipBuf, _ = ev.IPs[0].AppendBinary(l.ipBuf[:0])
		ip = l.ipBuf
	}
	field(ip)
	field(ev.ID)
	field(ev.UserID)
	field(ev.ObjectID)
	field(ev.Target)
	l.tmp = b
	l.w.Write(b)
	l.n++
}

func (l *shareLog) close() {
	l.f.Close()
	if l.name != "" {
		os.Remove(l.name)
	}
}

// spillShare appends a sharing record for a target not kept in memory.
// It reports false when there is no log and none can be made (the
// record then stays in memory).
func (a *agg) spillShare(target []byte, op string, ev *audit.Event, file int32, line int64) bool {
	if a.shareLog == nil {
		if a.shareLogErr != nil {
			return false
		}
		l, err := newShareLog(a.tempDir)
		if err != nil {
			a.shareLogErr = err
			return false
		}
		a.shareLog = l
	}
	a.shareLog.add(target, op, ev, file, line)
	return true
}

// readSpilledShares folds the sharing records the shards spilled into a,
// for the targets that are accounts in a (the only ones a report shows),
// and closes the logs.
func (a *agg) readSpilledShares(shards []*agg) error {
	var errs []error
	for _, sh := range shards {
		l := sh.shareLog
		if l == nil {
			continue
		}
		sh.shareLog = nil
		if err := a.readShareLog(l); err != nil {
			errs = append(errs, fmt.Errorf("sharing records spilled to %s: %w", l.f.Name(), err))
		}
		l.close()
	}
	return errors.Join(errs...)
}

func (a *agg) readShareLog(l *shareLog) error {
	if err := l.w.Flush(); err != nil {
		return err
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(l.f, 64<<10)
	var buf []byte
	field := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > 1<<30 {
			return nil, errors.New("corrupt record")
		}
		start := len(buf)
		buf = append(buf, make([]byte, n)...)
		_, err = io.ReadFull(r, buf[start:])
		return buf[start:], err
	}
	for i := int64(0); i < l.n; i++ {
		buf = buf[:0]
		target, err := field()
		if err != nil {
			return err
		}
		op, err := field()
		if err != nil {
			return err
		}
		var ev audit.Event
		if ev.Time, err = binary.ReadVarint(r); err != nil {
			return err
		}
		file, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		line, err := binary.ReadVarint(r)
		if err != nil {
			return err
		}
		ip, err := field()
		if err != nil {
			return err
		}
		if len(ip) > 0 {
			var addr netip.Addr
			if err := addr.UnmarshalBinary(ip); err != nil {
				return err
			}
			ev.IPs[0], ev.NIPs = addr, 1
		}
		if ev.ID, err = field(); err != nil {
			return err
		}
		if ev.UserID, err = field(); err != nil {
			return err
		}
		if ev.ObjectID, err = field(); err != nil {
			return err
		}
		if ev.Target, err = field(); err != nil {
			return err
		}
		if _, ok := a.users[string(target)]; !ok {
			continue
		}
		s := a.shares[string(target)]
		if s == nil {
			s = &shareStats{}
			a.shares[string(target)] = s
		}
		s.count++
		s.ev.offer(a.k, a.str(op), &ev, int32(file), line, ev.ObjectID, ev.Target)
	}
	return nil
}
