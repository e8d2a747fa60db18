//go:build !unix

package collect

// lockArchive is a no-op where flock(2) does not exist. Two runs on one
// archive are still safe (they write the same files for the same content
// and record ids idempotently), only wasteful; the leftover-file sweep is
// skipped because another run may own those files.
// canLock says whether lockArchive excludes other runs (and so whether
// leftover temporary files may be swept).
const canLock = false

func lockArchive(path string) (unlock func(), err error) {
	return func() {}, nil
}
