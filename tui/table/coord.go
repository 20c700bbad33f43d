package table

import (
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/go-zookeeper/zk"
)

// Tree lists root and every node below it, depth first in name order,
// indented two spaces a level; children reads a node's children. maxDepth
// < 0 means no limit.
func Tree(root string, maxDepth int, children func(string) ([]string, error)) ([]string, error) {
	var lines []string
	var walk func(p, name string, depth int) error
	walk = func(p, name string, depth int) error {
		lines = append(lines, fmt.Sprintf("%*s%s", depth*2, "", name))
		if maxDepth >= 0 && depth >= maxDepth {
			return nil
		}
		kids, err := children(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		slices.Sort(kids)
		for _, k := range kids {
			if err := walk(path.Join(p, k), k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return lines, walk(root, root, 0)
}

// CoordStat shows a znode's Stat as zkCli's stat does.
func CoordStat(p string, st *zk.Stat) *KV {
	kv := &KV{}
	kv.Add("path", p)
	kv.Add("cZxid", fmt.Sprintf("0x%x", st.Czxid))
	kv.Add("ctime", time.UnixMilli(st.Ctime).UTC().Format(time.RFC3339))
	kv.Add("mZxid", fmt.Sprintf("0x%x", st.Mzxid))
	kv.Add("mtime", time.UnixMilli(st.Mtime).UTC().Format(time.RFC3339))
	kv.Add("pZxid", fmt.Sprintf("0x%x", st.Pzxid))
	kv.Add("cversion", fmt.Sprint(st.Cversion))
	kv.Add("dataVersion", fmt.Sprint(st.Version))
	kv.Add("aclVersion", fmt.Sprint(st.Aversion))
	kv.Add("ephemeralOwner", fmt.Sprintf("0x%x", st.EphemeralOwner))
	kv.Add("dataLength", fmt.Sprint(st.DataLength))
	kv.Add("numChildren", fmt.Sprint(st.NumChildren))
	return kv
}
