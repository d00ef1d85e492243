package memstore

// Counters returns how many counters s keeps, expired ones included.
func (s *Store) Counters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.counters)
}
