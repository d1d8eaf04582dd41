//! The gazetteer on the real GeoNames data from the store (fetched on first use).

use std::sync::OnceLock;

use newstag::places::{Gazetteer, Place, PlaceKind};
use newstag::store::{GEONAMES, Store};

fn gazetteer() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    G.get_or_init(|| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_newstag"))
            .args(["models", "fetch", "geonames"])
            .output()
            .expect("running newstag models fetch geonames");
        assert!(
            out.status.success(),
            "newstag models fetch geonames failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = Store::from_env()
            .and_then(|s| s.require(&GEONAMES))
            .expect("geonames in the store");
        Gazetteer::load(&dir).expect("loading the gazetteer")
    })
}

fn resolve(names: &[&str]) -> Vec<Option<Place>> {
    let out = gazetteer().resolve_document(names);
    assert_eq!(out.len(), names.len());
    out
}

fn code(p: &Option<Place>) -> Option<&str> {
    p.as_ref().map(|p| p.country_code.as_str())
}

fn kind(p: &Option<Place>) -> Option<PlaceKind> {
    p.as_ref().map(|p| p.kind)
}

#[test]
fn seed_article() {
    let names = [
        "Moscow",
        "Beijing",
        "Russia",
        "China",
        "Norway",
        "the Arctic",
        "the Northern Sea Route",
    ];
    let r = resolve(&names);
    let moscow = r[0].as_ref().expect("Moscow");
    assert_eq!(moscow.country_code, "RU");
    assert_eq!(moscow.kind, PlaceKind::City);
    assert!((moscow.lat - 55.75).abs() < 0.1, "{moscow:?}");
    assert!((moscow.lon - 37.62).abs() < 0.1, "{moscow:?}");
    assert_eq!(code(&r[1]), Some("CN"));
    assert_eq!(kind(&r[1]), Some(PlaceKind::City));
    assert_eq!(code(&r[2]), Some("RU"));
    assert_eq!(kind(&r[2]), Some(PlaceKind::Country));
    assert_eq!(r[2].as_ref().unwrap().name, "Russia");
    assert_eq!(code(&r[3]), Some("CN"));
    assert_eq!(kind(&r[3]), Some(PlaceKind::Country));
    let norway = r[4].as_ref().expect("Norway");
    assert_eq!(
        (norway.name.as_str(), norway.country_code.as_str()),
        ("Norway", "NO")
    );
    assert_eq!(norway.kind, PlaceKind::Country);
    assert!(norway.geonames_id > 0);
    assert_eq!(r[5], None, "the Arctic stays unresolved");
    assert_eq!(r[6], None, "the Northern Sea Route stays unresolved");
}

#[test]
fn demonyms() {
    let g = gazetteer();
    for (word, cc) in [
        ("Russian", "RU"),
        ("Chinese", "CN"),
        ("Norwegian", "NO"),
        ("American", "US"),
        ("Americans", "US"),
        ("British", "GB"),
        ("Russians", "RU"),
        ("French", "FR"),
        ("Swiss", "CH"),
        ("Dutch", "NL"),
        ("South Korean", "KR"),
        ("Georgian", "GE"),
    ] {
        let p = g.demonym(word).unwrap_or_else(|| panic!("demonym {word}"));
        assert_eq!(p.country_code, cc, "{word}");
        assert_eq!(p.kind, PlaceKind::Country, "{word}");
    }
    assert_eq!(g.demonym("Korean"), None, "shared by two countries");
    assert_eq!(g.demonym("Martian"), None);
    assert_eq!(g.demonym(""), None);
}

#[test]
fn georgia_needs_evidence() {
    assert_eq!(resolve(&["Georgia"])[0], None);

    let r = resolve(&["Georgia", "Atlanta", "the United States"]);
    let ga = r[0].as_ref().expect("Georgia, US");
    assert_eq!(
        (ga.kind, ga.country_code.as_str(), ga.name.as_str()),
        (PlaceKind::Admin1, "US", "Georgia")
    );
    assert_eq!(code(&r[1]), Some("US"));
    assert_eq!(code(&r[2]), Some("US"));

    let r = resolve(&["Tbilisi", "Georgia"]);
    assert_eq!(kind(&r[1]), Some(PlaceKind::Country));
    assert_eq!(code(&r[1]), Some("GE"));

    // Evidence through a demonym.
    let r = resolve(&["Georgian", "Georgia"]);
    assert_eq!(code(&r[1]), Some("GE"));
    let r = resolve(&["Georgia", "Americans"]);
    assert_eq!(kind(&r[0]), Some(PlaceKind::Admin1));
}

#[test]
fn population_dominance_and_evidence() {
    let r = resolve(&["Paris"]);
    assert_eq!(code(&r[0]), Some("FR"));
    assert_eq!(r[0].as_ref().unwrap().name, "Paris");
    // A mention of the US alone does not move Paris to Texas.
    assert_eq!(code(&resolve(&["Paris", "U.S."])[0]), Some("FR"));
    assert_eq!(
        code(&resolve(&["Moscow", "the United States"])[0]),
        Some("RU")
    );
    // Evidence does not turn a country into a town of the same name.
    let r = resolve(&["Mexico", "the Philippines"]);
    assert_eq!(
        (code(&r[0]), kind(&r[0])),
        (Some("MX"), Some(PlaceKind::Country))
    );
    // A US state does move Moscow to Idaho.
    let r = resolve(&["Moscow", "Idaho"]);
    assert_eq!(code(&r[0]), Some("US"));
    assert_eq!(kind(&r[1]), Some(PlaceKind::Admin1));
    let r = resolve(&["Paris", "Texas"]);
    assert_eq!(code(&r[0]), Some("US"));
    assert_eq!(r[0].as_ref().unwrap().name, "Paris");
    // London, Ontario needs more than a mention of Canada against London, England.
    assert_eq!(code(&resolve(&["London", "Canada"])[0]), Some("GB"));
    // Athens: Greece and Georgia are both big enough to need evidence.
    assert_eq!(resolve(&["Athens"])[0], None);
    assert_eq!(code(&resolve(&["Athens", "Greece"])[0]), Some("GR"));
    let r = resolve(&["Athens", "Georgia"]);
    assert_eq!(code(&r[0]), Some("US"), "Athens, Georgia: {r:?}");
    assert_eq!(kind(&r[1]), Some(PlaceKind::Admin1));
    // A shared country is not enough: Paris stays in France, Georgia stays ambiguous.
    let r = resolve(&["Paris", "Georgia"]);
    assert_eq!(code(&r[0]), Some("FR"));
    assert_eq!(r[1], None);
    // A city's own name beats cities that only have it as an alternate name.
    assert_eq!(code(&resolve(&["Rome"])[0]), Some("IT"));
    assert_eq!(resolve(&["White House"])[0], None);
    // Many Springfields, none dominant; a state decides.
    assert_eq!(resolve(&["Springfield"])[0], None);
    let r = resolve(&["Springfield", "Illinois"]);
    let s = r[0].as_ref().expect("Springfield, IL");
    assert_eq!(s.country_code, "US");
    assert!((s.lat - 39.8).abs() < 0.3, "{s:?}");
}

#[test]
fn aliases_codes_and_cleaning() {
    for name in [
        "U.S.",
        "US",
        "USA",
        "the United States",
        "United States'",
        "America",
        "the U.S.’s",
    ] {
        assert_eq!(code(&resolve(&[name])[0]), Some("US"), "{name}");
    }
    for name in [
        "UK",
        "U.K.",
        "Britain",
        "Great Britain",
        "the United Kingdom",
    ] {
        assert_eq!(code(&resolve(&[name])[0]), Some("GB"), "{name}");
    }
    for (name, cc) in [
        ("South Korea", "KR"),
        ("North Korea", "KP"),
        ("the Netherlands", "NL"),
        ("Beijing’s", "CN"),
        ("Russia's", "RU"),
        ("the Philippines'", "PH"),
        ("Moscow.", "RU"),
        ("“Norway”", "NO"),
        ("CHN", "CN"),
        ("DEU", "DE"),
        ("São Paulo", "BR"),
        ("Sao Paulo", "BR"),
        ("Köln", "DE"),
        ("Cologne", "DE"),
        ("Washington", "US"),
        ("New York", "US"),
        ("Mexico", "MX"),
        ("Singapore", "SG"),
    ] {
        assert_eq!(code(&resolve(&[name])[0]), Some(cc), "{name}");
    }
    assert_eq!(kind(&resolve(&["Mexico"])[0]), Some(PlaceKind::Country));
    assert_eq!(
        resolve(&["New York"])[0].as_ref().unwrap().kind,
        PlaceKind::City
    );
    // ISO codes that are US states or English words are not read as countries.
    assert_eq!(resolve(&["CA"])[0], None);
    assert_eq!(resolve(&["IN"])[0], None);
    let europe = resolve(&["Europe"])[0].clone().expect("Europe");
    assert_eq!(europe.kind, PlaceKind::Continent);
    assert_eq!(europe.country_code, "");
}

#[test]
fn unknown_and_odd_inputs() {
    let long = "x".repeat(10_000);
    let names = [
        "",
        " ",
        "the",
        "the ",
        "'s",
        "’",
        "...",
        "Qwertyuiopland",
        "Middle Earth",
        "\u{0}",
        "🙂",
        "東京",
        long.as_str(),
        "the the the",
        "’s’s",
    ];
    let r = resolve(&names);
    for (n, p) in names.iter().zip(&r) {
        if n.starts_with('x') || n.is_empty() || n.trim().is_empty() || n.contains("Qwerty") {
            assert_eq!(*p, None, "{n:?}");
        }
    }
    assert!(resolve(&[]).is_empty());
}

#[test]
fn serializes_snake_case() {
    let p = resolve(&["Norway"])[0].clone().unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["kind"], "country");
    assert_eq!(v["country_code"], "NO");
    let s = resolve(&["Idaho"])[0].clone().unwrap();
    assert_eq!(serde_json::to_value(&s).unwrap()["kind"], "admin1");
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Gazetteer>();
}

#[test]
fn capitals_and_names_on_their_own() {
    let g = gazetteer();
    let capital_of = |city: &str| {
        let place = g.resolve_name(city).expect(city);
        g.capital_of(&place).map(|c| c.country_code)
    };
    assert_eq!(capital_of("Moscow").as_deref(), Some("RU"));
    assert_eq!(capital_of("Beijing").as_deref(), Some("CN"));
    assert_eq!(capital_of("Washington").as_deref(), Some("US"));
    assert_eq!(capital_of("Kyiv").as_deref(), Some("UA"));
    assert_eq!(capital_of("Shanghai"), None, "a city, not a capital");
    assert_eq!(capital_of("Russia"), None, "a country has no capital_of");
    // A demonym is not the country's name on its own.
    assert_eq!(g.resolve_name("Russian"), None);
    assert_eq!(code(&g.resolve_name("Russia")), Some("RU"));
    assert_eq!(code(&g.resolve_name("US")), Some("US"));
    // Guinea-Bissau is one country, not Guinea and Bissau.
    assert_eq!(code(&g.resolve_name("Guinea-Bissau")), Some("GW"));
}
