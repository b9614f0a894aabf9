package gold

import (
	"slices"
	"strings"
)

// order sorts models so that each comes after the gold.* models it reads (by name
// where the graph leaves a choice), and refuses a cycle, naming it. A gold.* input
// that is not among models (a refused model, see LoadAll) is left to bind.
func order(models []*Model) ([]*Model, error) {
	byName := map[string]*Model{}
	for _, m := range models {
		byName[m.Name] = m
	}
	names := make([]string, 0, len(models))
	for _, m := range models {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var out []*Model
	var path []string
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			start := slices.Index(path, name)
			cycle := append(slices.Clone(path[start:]), name)
			m := byName[path[len(path)-1]]
			return &ModelError{File: m.File, Line: m.inputLine("gold", name),
				Msg: "dependency cycle: gold." + strings.Join(cycle, " → gold.")}
		}
		state[name] = visiting
		path = append(path, name)
		m := byName[name]
		for _, in := range m.Inputs {
			if in.Schema != "gold" || byName[in.Name] == nil {
				continue
			}
			if err := visit(in.Name); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		out = append(out, m)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inputLine is the line where the SELECT first names schema.name.
func (m *Model) inputLine(schema, name string) int {
	for _, r := range m.refs {
		if r.name.Schema == schema && r.name.Name == name {
			return lineAt(m.text, r.at)
		}
	}
	return m.sqlLine()
}
