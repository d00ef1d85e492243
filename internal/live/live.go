// Package live keeps the invocations an observer has begun and not yet
// ended, so that its Shutdown can finish them: in Lambda, an invocation cut
// short by its timeout never reaches its End, and the environment shuts
// down. The list is threaded through the invocations' own state, so adding
// and removing one allocate nothing on the per-invocation path.
package live

// Link is a List's element: a field in the state of one invocation, whose
// Value points back to that state.
type Link[T any] struct {
	prev, next *Link[T]
	in         bool // in a List
	Value      T
}

// List is the invocations begun and not ended. Its zero value is empty. It
// is not safe for concurrent use: its owner guards it with a mutex.
type List[T any] struct{ head *Link[T] }

// Push adds l, which is in no list, at the front of the list.
func (ls *List[T]) Push(l *Link[T]) {
	l.prev, l.next, l.in = nil, ls.head, true
	if ls.head != nil {
		ls.head.prev = l
	}
	ls.head = l
}

// Remove takes l out of the list and reports whether it was in it: false
// when it was removed before, by Remove or TakeAll, or never pushed.
func (ls *List[T]) Remove(l *Link[T]) bool {
	if !l.in {
		return false
	}
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		ls.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	}
	l.prev, l.next, l.in = nil, nil, false
	return true
}

// Each calls f with the Value of every link in the list, the last pushed
// first. f must not change the list.
func (ls *List[T]) Each(f func(T)) {
	for l := ls.head; l != nil; l = l.next {
		f(l.Value)
	}
}

// TakeAll empties the list and returns the Values it held, the last pushed
// first; a later Remove of any of their links reports false.
func (ls *List[T]) TakeAll() []T {
	var all []T
	for l := ls.head; l != nil; {
		next := l.next
		all = append(all, l.Value)
		l.prev, l.next, l.in = nil, nil, false
		l = next
	}
	ls.head = nil
	return all
}
