package triage

import "syscall"

// mapPopulate asks Linux to fault a table's pages in when it is mapped:
// one system call instead of a page fault for each 4 KiB the table's
// random inserts touch first (pprof: 0.1 CPU-s per GB in table growth).
const mapPopulate = syscall.MAP_POPULATE

// hugePages asks Linux to back an arena with 2 MiB pages where
// transparent huge pages are enabled for it (the "madvise" mode most
// distributions ship): the Id tables are read at random, one record Id
// at a time, and with 4 KiB pages nearly every read also missed the TLB.
func hugePages(mem []byte) { _ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE) }
