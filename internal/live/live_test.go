package live

import (
	"slices"
	"testing"
)

func values(ls *List[int]) []int {
	var out []int
	ls.Each(func(v int) { out = append(out, v) })
	return out
}

func TestList(t *testing.T) {
	var ls List[int]
	links := make([]Link[int], 4)
	for i := range links {
		links[i].Value = i
		ls.Push(&links[i])
	}
	if got, want := values(&ls), []int{3, 2, 1, 0}; !slices.Equal(got, want) {
		t.Fatalf("list %v, want %v", got, want)
	}
	// Remove from the middle, the front and the back.
	for _, i := range []int{2, 3, 0} {
		if !ls.Remove(&links[i]) {
			t.Errorf("Remove(%d) = false for a link in the list", i)
		}
		if ls.Remove(&links[i]) {
			t.Errorf("Remove(%d) twice = true", i)
		}
	}
	if got, want := values(&ls), []int{1}; !slices.Equal(got, want) {
		t.Fatalf("list %v, want %v", got, want)
	}
	var never Link[int]
	if ls.Remove(&never) {
		t.Error("Remove of a link never pushed = true")
	}
	if got, want := values(&ls), []int{1}; !slices.Equal(got, want) {
		t.Fatalf("after removing a stranger: list %v, want %v", got, want)
	}
	// A link removed can be pushed again.
	ls.Push(&links[3])
	if got, want := ls.TakeAll(), []int{3, 1}; !slices.Equal(got, want) {
		t.Fatalf("TakeAll %v, want %v", got, want)
	}
	if got := values(&ls); len(got) != 0 {
		t.Fatalf("after TakeAll: list %v, want empty", got)
	}
	if ls.Remove(&links[1]) || ls.Remove(&links[3]) {
		t.Error("Remove after TakeAll = true")
	}
}
