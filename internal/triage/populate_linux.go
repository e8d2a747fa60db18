package triage

import "syscall"

// mapPopulate asks Linux to fault a table's pages in when it is mapped:
// one system call instead of a page fault for each 4 KiB the table's
// random inserts touch first (pprof: 0.1 CPU-s per GB in table growth).
const mapPopulate = syscall.MAP_POPULATE
