//! Resolving the place names of one article: each name's candidates, the evidence the names
//! give together, and the choice among candidates (the rules are in the module docs).

use std::collections::{HashMap, HashSet};

use super::names::{clean, key};
use super::{Gazetteer, Place, PlaceKind};

impl Gazetteer {
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
        let evidence = self.evidence(&cands);
        cands
            .iter()
            .map(|c| {
                self.choose(c, &evidence)
                    .map(|i| self.entries[i as usize].place.clone())
            })
            .collect()
    }

    /// What the candidates of all names of one article say about where it is.
    fn evidence(&self, cands: &[Vec<u32>]) -> Evidence<'_> {
        // Evidence: countries and US states that some name is wholly inside.
        let mut countries: HashSet<&str> = HashSet::new();
        let mut states: HashSet<(&str, &str)> = HashSet::new();
        for c in cands {
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
        Evidence {
            countries,
            states,
            shared,
        }
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

    /// The place `name` stands for on its own, without the rest of an article: what
    /// [`Gazetteer::resolve_document`] gives for that one name. A demonym gives `None` here:
    /// "Russian" names a people or an adjective, not the country itself.
    pub fn resolve_name(&self, name: &str) -> Option<Place> {
        if self.named_candidates(name).is_empty() {
            return None;
        }
        self.resolve_document(&[name]).pop().flatten()
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
