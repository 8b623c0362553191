package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/heraldlb/herald/e2etest/lab"
)

// clockTick is the kernel's USER_HZ, which /proc/pid/stat counts in; it is
// 100 on every Linux architecture Herald runs on.
const clockTick = 100

// procStat is a process's CPU time so far and its resident memory.
type procStat struct {
	cpu      time.Duration
	rss, hwm int64 // bytes: now, and the peak
}

func readProcStat(pid int) (procStat, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is field 3; utime and stime are fields 14 and 15.
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	out := procStat{cpu: time.Duration(ut+st) * time.Second / clockTick}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStat{}, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			out.rss = kb * 1024
		case "VmHWM":
			out.hwm = kb * 1024
		}
	}
	return out, nil
}

// speakerStats reads every speaker's procStat.
func speakerStats(l *lab.Lab) ([]procStat, error) {
	var out []procStat
	for _, p := range l.Speakers.Procs {
		s, err := readProcStat(p.Pid())
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// costLine describes the speakers' CPU used between two readings, and
// their memory at the second.
func costLine(before, after []procStat) string {
	var parts []string
	for i := range after {
		parts = append(parts, fmt.Sprintf("node%d: CPU %.2fs, RSS %.1f MiB (peak %.1f MiB)", i+1,
			(after[i].cpu-before[i].cpu).Seconds(), float64(after[i].rss)/(1<<20), float64(after[i].hwm)/(1<<20)))
	}
	return strings.Join(parts, "; ")
}
