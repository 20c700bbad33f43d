package client

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// TaskSandboxFile is the files-API path of a file in a task's latest run:
// /frameworks/<fw>/executors/<executor>/runs/latest/<name>. A command
// task's executor ID is its task ID, as in Mesos.
func TaskSandboxFile(t *mesos.Task, name string) string {
	ex := string(t.ExecutorID)
	if ex == "" {
		ex = string(t.TaskID)
	}
	return fmt.Sprintf("/frameworks/%s/executors/%s/runs/latest/%s", t.FrameworkID, ex, name)
}

// AgentURL is the base URL of an agent's API as the master describes it:
// the address in its PID ("slave(1)@10.0.0.7:5051"), else its hostname
// and port.
func AgentURL(a *mesos.Agent) string {
	if a == nil || a.AgentInfo == nil {
		return ""
	}
	if _, addr, ok := strings.Cut(a.PID, "@"); ok && addr != "" {
		return "http://" + addr
	}
	return fmt.Sprintf("http://%s:%d", a.AgentInfo.Hostname, a.AgentInfo.GetPort())
}

// maxTailScan bounds how far back LastLines reads looking for lines.
const maxTailScan = 4 << 20

// LastLines reads the last n lines of a sandbox file (all of it when n <
// 0) and returns them with the file's size, the offset to follow from.
// It reads backwards in the agent's page-sized chunks, at most 4 MiB.
func (a *Agent) LastLines(ctx context.Context, path string, n int) ([]byte, uint64, error) {
	_, size, err := a.ReadFile(ctx, path, 0, 0)
	if err != nil {
		return nil, 0, err
	}
	start := uint64(0)
	if n >= 0 {
		const chunk = 64 << 10
		start = size
		newlines := 0
		for n > 0 && start > 0 && size-start < maxTailScan {
			from := uint64(0)
			if start > chunk {
				from = start - chunk
			}
			data, _, err := a.ReadFile(ctx, path, from, int64(start-from))
			if err != nil {
				return nil, 0, err
			}
			// A last line without its newline still counts as a line.
			end := len(data)
			if start == size && end > 0 && data[end-1] == '\n' {
				end--
			}
			found := false
			for i := end - 1; i >= 0; i-- {
				if data[i] == '\n' {
					newlines++
					if newlines == n {
						start = from + uint64(i) + 1
						found = true
						break
					}
				}
			}
			if found {
				break
			}
			start = from
		}
	}
	var out bytes.Buffer
	for off := start; off < size; {
		data, _, err := a.ReadFile(ctx, path, off, int64(size-off))
		if err != nil {
			return nil, 0, err
		}
		if len(data) == 0 {
			break
		}
		out.Write(data)
		off += uint64(len(data))
	}
	return out.Bytes(), size, nil
}
