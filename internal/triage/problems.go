package triage

import (
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/outsider-sec/outsider/internal/source"
)

// MaxProblemsPerFile caps the problems a report lists for one file; the
// rest are counted. A file of garbage would otherwise print a line per line.
const MaxProblemsPerFile = 20

// problems collects input problems from the reader and the workers.
type problems struct {
	mu      sync.Mutex
	byFile  map[string][]source.Problem
	omitted int64
	on      func(source.Problem)
	// fileLevel counts, per path, the records that problems concerning the
	// whole file (not a line) said were lost; a file that then gave no
	// record is a skipped file, and those are not records.
	fileLevel map[string]int64
	failed    map[string]bool
}

func (p *problems) add(pr source.Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on != nil {
		p.on(pr)
	}
	if pr.Unit == "" && !pr.Warning {
		if p.failed == nil {
			p.failed, p.fileLevel = map[string]bool{}, map[string]int64{}
		}
		p.failed[pr.Path] = true
		p.fileLevel[pr.Path] += pr.Records
	}
	list := append(p.byFile[pr.Path], pr)
	// Keep the first problems by line, whatever order workers report them
	// in, so the report is deterministic.
	if len(list) > 2*MaxProblemsPerFile {
		sortProblems(list)
		p.omitted += int64(len(list) - MaxProblemsPerFile)
		list = list[:MaxProblemsPerFile]
	}
	p.byFile[pr.Path] = list
}

func sortProblems(list []source.Problem) {
	slices.SortStableFunc(list, func(a, b source.Problem) int {
		if a.Line != b.Line {
			if a.Line < b.Line {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Reason, b.Reason)
	})
}

// tempDir is where the run spills.
func tempDir(opts Options) string {
	if opts.TempDir != "" {
		return opts.TempDir
	}
	return os.TempDir()
}

// spillWarning says that what could not be spilled to the temporary
// folder stayed in memory: the report is whole, the run used more memory.
func spillWarning(opts Options, what string, err error) source.Problem {
	return source.Problem{Path: tempDir(opts), Warning: true,
		Reason: "could not spill " + what + " to this folder, so they stayed in memory (" + err.Error() + "); give --temp-dir or TMPDIR a folder with space"}
}
