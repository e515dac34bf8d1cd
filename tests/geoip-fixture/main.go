// Writes the tests' GeoIP database (fixture.json) with MaxMind's own MMDB writer, typed
// GeoLite2-City as Vector's geoip enrichment table requires: `geoip-fixture <fixture.json> <out.mmdb>`.
package main

import (
	"encoding/json"
	"log"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

type place struct {
	ISO  string `json:"iso"`
	En   string `json:"en"`
	ZhCN string `json:"zh-CN"`
}

type network struct {
	CIDR        string `json:"cidr"`
	Continent   string `json:"continent"`
	Country     place  `json:"country"`
	Subdivision *place `json:"subdivision"`
	City        *place `json:"city"`
	TimeZone    string `json:"timeZone"`
}

// names holds only the locales the fixture gives: a missing translation stays missing, as in GeoLite2.
func names(p place) mmdbtype.Map {
	m := mmdbtype.Map{}
	if p.En != "" {
		m["en"] = mmdbtype.String(p.En)
	}
	if p.ZhCN != "" {
		m["zh-CN"] = mmdbtype.String(p.ZhCN)
	}
	return m
}

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: geoip-fixture <fixture.json> <out.mmdb>")
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	var fixture struct {
		Networks []network `json:"networks"`
	}
	if err := json.Unmarshal(text, &fixture); err != nil {
		log.Fatalf("%s: %v", os.Args[1], err)
	}
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoLite2-City",
		Description:             map[string]string{"en": "rtdw test GeoIP database (documentation ranges)"},
		Languages:               []string{"en", "zh-CN"},
		RecordSize:              28,
		IncludeReservedNetworks: true, // the documentation ranges are reserved
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range fixture.Networks {
		_, cidr, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			log.Fatalf("%s: %v", n.CIDR, err)
		}
		record := mmdbtype.Map{
			"continent": mmdbtype.Map{"code": mmdbtype.String(n.Continent)},
			"country":   mmdbtype.Map{"iso_code": mmdbtype.String(n.Country.ISO), "names": names(n.Country)},
			"location":  mmdbtype.Map{"time_zone": mmdbtype.String(n.TimeZone)},
		}
		if n.Subdivision != nil {
			record["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(n.Subdivision.ISO), "names": names(*n.Subdivision)}}
		}
		if n.City != nil {
			record["city"] = mmdbtype.Map{"names": names(*n.City)}
		}
		if err := w.Insert(cidr, record); err != nil {
			log.Fatalf("%s: %v", n.CIDR, err)
		}
	}
	out, err := os.Create(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	if _, err := w.WriteTo(out); err != nil {
		log.Fatal(err)
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
}
