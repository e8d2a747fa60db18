//go:build unix

package collect

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockArchive takes an exclusive advisory lock on the archive so that two
// runs (a watch and a manual collect) do not work on it at once. The OS
// drops the lock when the process dies, so a killed run never blocks the
// next one.
// canLock says whether lockArchive excludes other runs (and so whether
// leftover temporary files may be swept).
const canLock = true

func lockArchive(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
		}
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
