package ruletest

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"
)

// orderGroups honours group_eval_order: alerting evaluates groups in
// the order of their files' sorted paths, so each group of ruleFiles is
// written to a file of its own in dir, named for its rank. Groups not
// named in order rank with the first, as in promtool. The files are
// already known to load; the group nodes are copied unchanged, so what
// they mean does not change.
func orderGroups(dir string, ruleFiles, order []string) ([]string, error) {
	rank := map[string]int{}
	for i, g := range order {
		rank[g] = i
	}
	type group struct {
		name string
		node *yaml.Node
	}
	var groups []group
	for _, p := range ruleFiles {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); err != nil {
				break // the end, or an error the loader has already accepted
			}
			root := &doc
			if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
				root = root.Content[0]
			}
			if root.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(root.Content); i += 2 {
				if root.Content[i].Value != "groups" {
					continue
				}
				for _, g := range root.Content[i+1].Content {
					var h struct {
						Name string `yaml:"name"`
					}
					_ = g.Decode(&h)
					groups = append(groups, group{h.Name, g})
				}
			}
		}
	}
	slices.SortStableFunc(groups, func(a, b group) int { return cmp.Compare(rank[a.name], rank[b.name]) })
	out := make([]string, 0, len(groups))
	for i, g := range groups {
		b, err := yaml.Marshal(map[string][]*yaml.Node{"groups": {g.node}})
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", g.name, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("group-%06d.yml", i))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
