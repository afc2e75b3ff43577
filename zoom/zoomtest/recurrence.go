package zoomtest

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// recurrence is a meeting's recurrence object (type 8 meetings).
type recurrence struct {
	typ            int   // 1 daily, 2 weekly, 3 monthly
	interval       int   // repeat_interval
	weeklyDays     []int // 1 = Sunday … 7 = Saturday; nil: the start's weekday
	monthlyDay     int   // 1..31; 0: the start's day (or monthlyWeek is used)
	monthlyWeek    int   // -1 (last), 1..4; 0: not used
	monthlyWeekDay int   // 1 = Sunday … 7 = Saturday, with monthlyWeek
	endTimes       int   // occurrences; 0 with endDateTime zero means "no end"
	endTimesSet    bool
	endDateTime    time.Time // zero: not used
}

// maxOccurrences is the most occurrences Zoom makes of a meeting (the
// maximum of end_times, and the cap of a recurrence with no end).
const maxOccurrences = 60

// maxInterval is the largest repeat_interval per recurrence type (Zoom's
// current reference: 99 days, 50 weeks, 10 months).
var maxInterval = map[int]int64{1: 99, 2: 50, 3: 10}

// parseRecurrence checks a recurrence object against Zoom's schema.
func parseRecurrence(v any) (*recurrence, []fieldError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, []fieldError{{Field: "recurrence", Message: "Invalid field."}}
	}
	var errs problems
	invalid := func(key string) { errs.invalid("recurrence." + key) }
	intField := func(key string) (int64, bool, bool) { // value, present, ok
		x, there := obj[key]
		if !there || x == nil {
			return 0, false, true
		}
		n, ok := asInt(x)
		return n, true, ok
	}

	r := &recurrence{interval: 1, endTimes: 1}
	typ, present, ok := intField("type")
	if !present || !ok || typ < 1 || typ > 3 {
		invalid("type")
		return nil, errs
	}
	r.typ = int(typ)
	if n, present, ok := intField("repeat_interval"); present {
		if !ok || n < 1 || n > maxInterval[r.typ] {
			invalid("repeat_interval")
		} else {
			r.interval = int(n)
		}
	}
	if s, present, ok := strField(obj, "weekly_days"); !ok {
		invalid("weekly_days")
	} else if present && r.typ == 2 {
		for _, part := range strings.Split(s, ",") {
			d, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || d < 1 || d > 7 {
				invalid("weekly_days")
				break
			}
			if !slices.Contains(r.weeklyDays, d) {
				r.weeklyDays = append(r.weeklyDays, d)
			}
		}
		slices.Sort(r.weeklyDays)
	}
	if n, present, ok := intField("monthly_day"); present && r.typ == 3 {
		if !ok || n < 1 || n > 31 {
			invalid("monthly_day")
		} else {
			r.monthlyDay = int(n)
		}
	}
	week, weekPresent, weekOK := intField("monthly_week")
	day, dayPresent, dayOK := intField("monthly_week_day")
	if r.typ == 3 && (weekPresent || dayPresent) {
		switch {
		case !weekPresent || !weekOK || !slices.Contains([]int64{-1, 1, 2, 3, 4}, week):
			invalid("monthly_week")
		case !dayPresent || !dayOK || day < 1 || day > 7:
			invalid("monthly_week_day")
		default:
			r.monthlyWeek, r.monthlyWeekDay = int(week), int(day)
			r.monthlyDay = 0
		}
	}
	n, timesPresent, ok := intField("end_times")
	if timesPresent {
		if !ok || n < 0 || n > maxOccurrences {
			invalid("end_times")
		} else {
			r.endTimes, r.endTimesSet = int(n), true
		}
	}
	if s, present, ok := strField(obj, "end_date_time"); !ok {
		invalid("end_date_time")
	} else if present {
		t, err := time.Parse(time.RFC3339, s)
		switch {
		case err != nil:
			invalid("end_date_time")
		case timesPresent:
			errs = append(errs, fieldError{Field: "recurrence.end_date_time", Message: "Cannot be used with end_times."})
		default:
			r.endDateTime, r.endTimes = t.UTC(), 0
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// body is the recurrence as Zoom answers it.
func (r *recurrence) body() map[string]any {
	b := map[string]any{"type": r.typ, "repeat_interval": r.interval}
	switch r.typ {
	case 2:
		if len(r.weeklyDays) > 0 {
			b["weekly_days"] = strings.Join(mapSlice(r.weeklyDays, strconv.Itoa), ",")
		}
	case 3:
		if r.monthlyWeek != 0 {
			b["monthly_week"], b["monthly_week_day"] = r.monthlyWeek, r.monthlyWeekDay
		} else if r.monthlyDay != 0 {
			b["monthly_day"] = r.monthlyDay
		}
	}
	if !r.endDateTime.IsZero() {
		b["end_date_time"] = formatTime(r.endDateTime)
	} else {
		b["end_times"] = r.endTimes
	}
	return b
}

// occurrence is one occurrence of a recurring meeting.
type occurrence struct {
	id       string // start in Unix milliseconds, as Zoom numbers them
	start    time.Time
	duration int
}

func (o occurrence) body() map[string]any {
	return map[string]any{
		"occurrence_id": o.id,
		"start_time":    formatTime(o.start),
		"duration":      o.duration,
		"status":        "available",
	}
}

// occurrences lists the occurrences from start on, at start's time of day in
// loc (so across daylight-saving changes the local time stays), until
// end_times of them or end_date_time, and never more than maxOccurrences.
func (r *recurrence) occurrences(start time.Time, loc *time.Location, duration int) []occurrence {
	limit := r.endTimes
	if limit <= 0 || limit > maxOccurrences {
		limit = maxOccurrences
	}
	local := start.In(loc)
	y, mon, d := local.Date()
	hh, mm, ss := local.Clock()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, hh, mm, ss, 0, loc) }

	var out []occurrence
	// add appends t unless it is before start; it reports whether to go on.
	add := func(t time.Time) bool {
		if t.Before(start) {
			return true
		}
		if !r.endDateTime.IsZero() && t.After(r.endDateTime) {
			return false
		}
		out = append(out, occurrence{id: strconv.FormatInt(t.UnixMilli(), 10), start: t.UTC(), duration: duration})
		return len(out) < limit
	}

	const maxSteps = 10_000 // a bound for recurrences that never match
	switch r.typ {
	case 1:
		for i := 0; i < maxSteps && add(at(y, mon, d+i*r.interval)); i++ {
		}
	case 2:
		days := r.weeklyDays
		if len(days) == 0 {
			days = []int{int(local.Weekday()) + 1}
		}
		sunday := d - int(local.Weekday())
	weeks:
		for w := 0; w < maxSteps; w++ {
			for _, wd := range days {
				if !add(at(y, mon, sunday+w*7*r.interval+wd-1)) {
					break weeks
				}
			}
		}
	case 3:
		for k := 0; k < maxSteps; k++ {
			first := time.Date(y, mon+time.Month(k*r.interval), 1, 0, 0, 0, 0, loc)
			fy, fm, _ := first.Date()
			var day int
			switch {
			case r.monthlyWeek != 0:
				day = nthWeekday(fy, fm, r.monthlyWeek, time.Weekday(r.monthlyWeekDay-1))
			case r.monthlyDay != 0:
				day = min(r.monthlyDay, daysIn(fy, fm))
			default:
				day = min(d, daysIn(fy, fm))
			}
			if !add(at(fy, fm, day)) {
				break
			}
		}
	}
	return out
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nthWeekday is the day of the month of the n-th (1..4, or -1 for the last)
// weekday wd in month m.
func nthWeekday(y int, m time.Month, n int, wd time.Weekday) int {
	if n == -1 {
		last := daysIn(y, m)
		lastWD := time.Date(y, m, last, 0, 0, 0, 0, time.UTC).Weekday()
		return last - (int(lastWD)-int(wd)+7)%7
	}
	firstWD := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (int(wd)-int(firstWD)+7)%7 + (n-1)*7
}
