//go:build linux

package live

import (
	"os"
	"strconv"
	"strings"
)

// maxProcs bounds one scan of /proc: a host running more processes than this names the rest
// "process unknown" rather than spend a second reading links.
const maxProcs = 20000

// owners names the processes that hold the socket inodes wanted, through /proc/PID/fd (links read
// "socket:[INODE]"). Another user's process is unreadable without CAP_SYS_PTRACE: it stays
// unnamed. This process's own sockets are found first, in /proc/self/fd. complete says every
// process's descriptors could be read: an inode nobody holds then belongs to a socket closed since
// the dump.
func owners(wanted map[uint64]bool) (out map[uint64]owner, complete bool) {
	out = map[uint64]owner{}
	if len(wanted) == 0 {
		return out, true
	}
	self := os.Getpid()
	complete = true
	scan := func(pid int, dir string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if !os.IsNotExist(err) {
				complete = false
			}
			return
		}
		for _, e := range ents {
			l, err := os.Readlink(dir + "/" + e.Name())
			if err != nil || !strings.HasPrefix(l, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(l[len("socket:["):], "]"), 10, 64)
			if err != nil || !wanted[ino] {
				continue
			}
			if _, done := out[ino]; done {
				continue
			}
			out[ino] = owner{pid: pid, own: pid == self}
		}
	}
	scan(self, "/proc/self/fd")
	if len(out) < len(wanted) {
		procs, _ := os.ReadDir("/proc")
		for i, p := range procs {
			if len(out) == len(wanted) {
				break
			}
			if i >= maxProcs {
				complete = false
				break
			}
			pid, err := strconv.Atoi(p.Name())
			if err != nil || pid == self {
				continue
			}
			scan(pid, "/proc/"+p.Name()+"/fd")
		}
	}
	for ino, o := range out {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(o.pid) + "/comm"); err == nil {
			o.name = strings.TrimSpace(string(b))
		}
		out[ino] = o
	}
	return out, complete
}
