package vattest

import "time"

// window is a sliding one-second window: the times of an application's
// latest requests, oldest at next.
type window struct {
	times []time.Time
	next  int
}

// allowLocked counts a request by clientID at now against the rate limit. It
// reports whether the request may proceed and, if not, how many whole
// seconds until it could.
func (s *Server) allowLocked(clientID string, now time.Time) (bool, int) {
	limit := s.cfg.rate
	if limit == 0 {
		return true, 0
	}
	w := s.windows[clientID]
	if w == nil {
		w = &window{times: make([]time.Time, limit)}
		s.windows[clientID] = w
	}
	oldest := w.times[w.next]
	if !oldest.IsZero() && now.Sub(oldest) < time.Second {
		wait := oldest.Add(time.Second).Sub(now)
		secs := int((wait + time.Second - 1) / time.Second)
		return false, max(secs, 1)
	}
	w.times[w.next] = now
	w.next = (w.next + 1) % limit
	return true, 0
}
