package wolkvox

import (
	"math"
	"testing"
)

// TestParseNum: every format FACTS.md lists, and what must not pass.
func TestParseNum(t *testing.T) {
	const bad = -1.0
	for _, c := range []struct {
		in   string
		kind numKind
		want float64 // bad: present but invalid
	}{
		{`"12"`, kindCount, 12}, {`12`, kindCount, 12}, {`"1,234"`, kindCount, 1234}, {`"1,234,567"`, kindCount, 1234567},
		{`" 7 "`, kindCount, 7}, {`"12.0"`, kindCount, 12}, {`"2.5"`, kindCount, bad}, {`"-3"`, kindCount, bad},
		{`"12 %"`, kindCount, bad}, {`"1e3"`, kindCount, bad}, {`"12,34,5"`, kindCount, bad}, {`"1234,567"`, kindCount, bad},
		{`"2e9"`, kindCount, bad}, {`2000000000`, kindCount, bad}, {`true`, kindCount, bad}, {`"abc"`, kindCount, bad},
		{`"0x10"`, kindCount, bad}, {`"+5"`, kindCount, bad}, {`".5"`, kindCount, bad}, {`"5."`, kindCount, bad},

		{`"93.36 %"`, kindRatio, 0.9336}, {`"93.36%"`, kindRatio, 0.9336}, {`"93.36"`, kindRatio, 0.9336},
		{`93.36`, kindRatio, 0.9336}, {`"93,36 %"`, kindRatio, 0.9336}, {`"100.00 %"`, kindRatio, 1}, {`"0 %"`, kindRatio, 0},
		{`"9,336.00 %"`, kindRatio, bad}, {`"100.01 %"`, kindRatio, bad}, {`"-1 %"`, kindRatio, bad}, {`"%"`, kindRatio, bad},

		{`"3725"`, kindSeconds, 3725}, {`3725`, kindSeconds, 3725}, {`"01:02:05"`, kindSeconds, 3725},
		{`"100:00:00"`, kindSeconds, 360000}, {`"3,725"`, kindSeconds, 3725}, {`"12.5"`, kindSeconds, 12.5},
		{`"1:75:00"`, kindSeconds, bad}, {`"999999:00:00"`, kindSeconds, bad}, {`"02:05"`, kindSeconds, bad},
		{`"-5"`, kindSeconds, bad}, {`"5 %"`, kindSeconds, bad}, {`"4000000"`, kindSeconds, bad},
	} {
		var n Num
		var invalid InvalidFields
		setNum([]byte(c.in), c.kind, FieldCalls, &n, &invalid)
		switch {
		case c.want == bad && (n.Valid || invalid == 0):
			t.Errorf("%s (kind %d) = %+v, invalid %b; want invalid", c.in, c.kind, n, invalid)
		case c.want != bad && (!n.Valid || invalid != 0 || math.Abs(n.Value-c.want) > 1e-9):
			t.Errorf("%s (kind %d) = %+v, invalid %b; want %v", c.in, c.kind, n, invalid, c.want)
		}
	}
	// Absent: not valid, and not counted.
	for _, in := range []string{`""`, `"-"`, `" - "`, `null`} {
		var n Num
		var invalid InvalidFields
		setNum([]byte(in), kindCount, FieldCalls, &n, &invalid)
		if n.Valid || invalid != 0 {
			t.Errorf("%s = %+v, invalid %b; want absent", in, n, invalid)
		}
	}
	// An object or array where a number belongs is invalid.
	for _, in := range []string{`{}`, `[1]`} {
		var n Num
		var invalid InvalidFields
		setNum([]byte(in), kindCount, FieldCalls, &n, &invalid)
		if n.Valid || !invalid.Has(FieldCalls) {
			t.Errorf("%s = %+v, invalid %b; want invalid", in, n, invalid)
		}
	}
}

// TestDecodeSnapshotShapes: every shape data comes in, and what is not a
// response.
func TestDecodeSnapshotShapes(t *testing.T) {
	for _, c := range []struct {
		body string
		ids  []string // nil: an error
	}{
		{`{"code":"200","error":null,"msg":"","data":[{"skill_id":"1"},{"skill_id":"2"}]}`, []string{"1", "2"}},
		{`{"data":[{"skill_id":"1"}],"msg":"x","code":200}`, []string{"1"}},
		{`{"code":"0","data":{"skill_id":"7","skill_name":"A"}}`, []string{"7"}},
		{`{"code":200,"data":{"7":{"skill_name":"A"},"8":{"skill_id":"8"}}}`, []string{"7", "8"}},
		{`{"code":200,"data":{}}`, []string{}},
		{`{"code":200,"data":null}`, []string{}},
		{`{"code":200,"data":[]}`, []string{}},
		{`[{"skill_id":"1"},{"skill_id":"2"}]`, []string{"1", "2"}},
		{` [] `, []string{}},
		{`{"code":200,"data":{"7":{"skill_id":"7"},"8":3}}`, nil},
		{`{"code":200,"data":[{"skill_id":"1"},2]}`, nil},
		{`{"code":200,"data":"none"}`, nil},
		{`{"code":"500","data":[]}`, nil},
		{`{"code":200,"error":"BOOM","data":[]}`, nil},
		{`{"data":[]}`, nil},
		{`{"code":200}`, nil},
		{`{"code":200,"data":[],"data":[]}`, nil},
		{`{"code":200,"data":[{"skill_id":"1"}]`, nil},
		{`{"code":200,"data":[]} x`, nil},
		{`"200"`, nil},
		{`<b>Warning</b>{"code":200,"data":[]}`, nil},
		{`{"code":200, x":1,"data":[]}`, nil},                      // a member name without its opening quote
		{`{"code":200,"data":{"7":{"skill_id":"7"}, 8":{}}}`, nil}, // the same in data keyed by id
	} {
		got, err := DecodeSkills([]byte(c.body))
		if c.ids == nil {
			if err == nil {
				t.Errorf("%s: no error, rows %v", c.body, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		ids := []string{}
		for _, r := range got {
			ids = append(ids, r.SkillID)
		}
		if len(ids) != len(c.ids) {
			t.Errorf("%s: ids %q, want %q", c.body, ids, c.ids)
			continue
		}
		for i := range ids {
			if ids[i] != c.ids[i] {
				t.Errorf("%s: ids %q, want %q", c.body, ids, c.ids)
			}
		}
	}
}

// TestServiceLevelFields: any service_level_{N}seg is kept by its N, the
// API's constant service_level_0seg is not.
func TestServiceLevelFields(t *testing.T) {
	got, err := DecodeSkills([]byte(`{"code":200,"data":[{"skill_id":"1","service_level_0seg":"0 %","service_level_10seg":"80 %","service_level_45seg":"97.5 %","service_level_xseg":"1 %","service_level_9999999seg":"1 %"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	sl := got[0].ServiceLevel
	if len(sl) != 2 || sl[10] != 0.8 || sl[45] != 0.975 || got[0].Invalid != 0 {
		t.Errorf("service levels %v, invalid %b; want 10 and 45 only", sl, got[0].Invalid)
	}
}
