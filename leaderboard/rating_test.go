package leaderboard

import (
	"math"
	"testing"
)

func TestRate(t *testing.T) {
	duel := Match{ID: "m", Players: []Result{
		{PlayerID: "a", Team: 1, Placement: 1},
		{PlayerID: "b", Team: 2, Placement: 2},
	}}
	tests := []struct {
		name   string
		m      Match
		before map[string]float64
		want   map[string]float64
	}{
		{"equal duel moves K/2", duel, nil, map[string]float64{"a": 1516, "b": 1484}},
		{"favourite gains less", duel, map[string]float64{"a": 1900, "b": 1500},
			map[string]float64{"a": 1900 + 32*(1-1/(1+math.Pow(10, -1))), "b": 1500 - 32*(1-1/(1+math.Pow(10, -1)))}},
		{"draw between equals", Match{ID: "m", Players: []Result{
			{PlayerID: "a", Team: 1, Placement: 1}, {PlayerID: "b", Team: 2, Placement: 1},
		}}, nil, map[string]float64{"a": 1500, "b": 1500}},
		{"2v2 moves both players of a team", Match{ID: "m", Players: []Result{
			{PlayerID: "a", Team: 1, Placement: 1}, {PlayerID: "b", Team: 1, Placement: 1},
			{PlayerID: "c", Team: 2, Placement: 2}, {PlayerID: "d", Team: 2, Placement: 2},
		}}, nil, map[string]float64{"a": 1516, "b": 1516, "c": 1484, "d": 1484}},
		{"ffa of three", Match{ID: "m", Players: []Result{
			{PlayerID: "a", Team: 1, Placement: 1}, {PlayerID: "b", Team: 2, Placement: 2}, {PlayerID: "c", Team: 3, Placement: 3},
		}}, nil, map[string]float64{"a": 1516, "b": 1500, "c": 1484}},
		{"unplaced keeps rating", Match{ID: "m", Players: []Result{
			{PlayerID: "a", Team: 1, Placement: 1}, {PlayerID: "b", Team: 2, Placement: 0},
		}}, map[string]float64{"b": 1234}, map[string]float64{"a": 1500, "b": 1234}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Rate(tt.m, tt.before)
			for id, want := range tt.want {
				if math.Abs(got[id]-want) > 1e-9 {
					t.Errorf("Rate()[%q] = %v, want %v", id, got[id], want)
				}
			}
		})
	}
}

func TestStanding(t *testing.T) {
	m := Match{Players: []Result{{PlayerID: "a", Placement: 1}, {PlayerID: "b", Placement: 2}}}
	draw := Match{Players: []Result{{PlayerID: "a", Placement: 1}, {PlayerID: "b", Placement: 1}}}
	tests := []struct {
		m    Match
		r    Result
		want Standing
	}{
		{m, m.Players[0], Won},
		{m, m.Players[1], Lost},
		{draw, draw.Players[0], Drew},
		{m, Result{Placement: 0}, Drew},
	}
	for _, tt := range tests {
		if got := tt.m.Standing(tt.r); got != tt.want {
			t.Errorf("Standing(placement %d) = %v, want %v", tt.r.Placement, got, tt.want)
		}
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"ada", true},
		{"Ünïcødé Ñame", true},
		{"abcdefghijklmnopqrstuvwx", true},
		{"abcdefghijklmnopqrstuvwxy", false},
		{"", false},
		{"tab\there", false},
		{"bad\xffutf8", false},
	}
	for _, tt := range tests {
		if err := ValidateName(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
