//go:build linux || darwin || freebsd

package collect

import "syscall"

// freeBytes is the room left for this user on the file system holding
// dir; ok is false when the system cannot say.
func freeBytes(dir string) (free uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
