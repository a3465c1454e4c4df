package cnsbot

import "math"

// Place is a point on the map, in degrees (WGS 84, as Zalo and Google Maps
// give it). A household's place and where a member stands are personal
// data: never log them.
type Place struct {
	Lat, Lng float64
}

// Valid reports whether p is a point on Earth other than 0,0, which a phone
// that has no fix sends.
func (p Place) Valid() bool {
	return !math.IsNaN(p.Lat) && !math.IsNaN(p.Lng) && p.Lat >= -90 && p.Lat <= 90 &&
		p.Lng >= -180 && p.Lng <= 180 && (p.Lat != 0 || p.Lng != 0)
}

// Vietnam's box: the mainland's extreme points (Lũng Cú 23.39°N, Đất Mũi
// 8.56°N, A Pa Chải 102.14°E, Mũi Đôi 109.46°E) with a margin for the near
// islands (Hòn Khoai 8.43°N, Thổ Chu, Phú Quốc, Côn Đảo). A swapped latitude
// and longitude, or a number that lost its decimal point, falls outside.
const (
	vnMinLat, vnMaxLat = 8.0, 23.5
	vnMinLng, vnMaxLng = 102.0, 110.0
)

// InVietnam reports whether p lies in Vietnam's box: a household's place
// must, or it is a typing mistake.
func (p Place) InVietnam() bool {
	return p.Valid() && p.Lat >= vnMinLat && p.Lat <= vnMaxLat && p.Lng >= vnMinLng && p.Lng <= vnMaxLng
}

// earthRadius is the mean radius of the Earth in metres.
const earthRadius = 6371008.8

// Distance returns the great-circle distance between two places in metres
// (haversine): within a hamlet the error of a sphere is a few metres.
func Distance(a, b Place) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLng := (b.Lng - a.Lng) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}
