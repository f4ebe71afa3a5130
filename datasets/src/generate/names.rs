//! School names in Kazakh and Russian, in the forms Kazakhstan's registers
//! use ("№ 12 мектеп-гимназия" / "Школа-гимназия № 12", "Ақсу ауылының жалпы
//! білім беретін мектебі" / "Общеобразовательная школа села Аксу").

use super::rng::Stream;
use super::school_kinds::SchoolType;

/// `(Kazakh, Russian genitive)` names schools are named after.
const PEOPLE: [(&str, &str); 20] = [
    ("Абай", "Абая"),
    ("Ы. Алтынсарин", "Ы. Алтынсарина"),
    ("М. Әуезов", "М. Ауэзова"),
    ("Ш. Уәлиханов", "Ч. Валиханова"),
    ("С. Сейфуллин", "С. Сейфуллина"),
    ("М. Жұмабаев", "М. Жумабаева"),
    ("Жамбыл", "Жамбыла"),
    ("Қ. Сәтбаев", "К. Сатпаева"),
    ("Әл-Фараби", "Аль-Фараби"),
    ("А. Байтұрсынұлы", "А. Байтурсынова"),
    ("Б. Момышұлы", "Б. Момышулы"),
    ("М. Мақатаев", "М. Макатаева"),
    ("Ғ. Мүсірепов", "Г. Мусрепова"),
    ("А. С. Пушкин", "А. С. Пушкина"),
    ("Ш. Құдайбердіұлы", "Ш. Кудайбердиева"),
    ("Ә. Молдағұлова", "А. Молдагуловой"),
    ("М. Мәметова", "М. Маметовой"),
    ("Д. Қонаев", "Д. Кунаева"),
    ("Ә. Бөкейхан", "А. Букейхана"),
    ("Т. Айбергенов", "Т. Айбергенова"),
];

const VILLAGE_HEADS: [&str; 16] = [
    "Ақ",
    "Қара",
    "Сары",
    "Көк",
    "Жаңа",
    "Ескі",
    "Бес",
    "Қызыл",
    "Алты",
    "Үш",
    "Тас",
    "Құм",
    "Жел",
    "Ор",
    "Шұбар",
    "Бай",
];
const VILLAGE_TAILS: [&str; 16] = [
    "су",
    "көл",
    "бұлақ",
    "тау",
    "құдық",
    "тоғай",
    "жар",
    "арық",
    "төбе",
    "шоқы",
    "өзек",
    "терек",
    "қайың",
    "жол",
    "кент",
    "тал",
];
/// Villages of the north keep Russian names.
const RUSSIAN_VILLAGES: [&str; 16] = [
    "Ивановка",
    "Петровка",
    "Новопокровка",
    "Степное",
    "Береговое",
    "Зеленый Гай",
    "Озерное",
    "Александровка",
    "Михайловка",
    "Красноярка",
    "Новоишимское",
    "Приречное",
    "Каменка",
    "Васильевка",
    "Раздольное",
    "Сосновка",
];

/// Russian spelling of a Kazakh name: the Kazakh-only letters folded to
/// their usual Russian transcription.
pub(crate) fn transliterate(kk: &str) -> String {
    kk.chars()
        .map(|c| match c {
            'Ә' => 'А',
            'ә' => 'а',
            'Ғ' => 'Г',
            'ғ' => 'г',
            'Қ' => 'К',
            'қ' => 'к',
            'Ң' => 'Н',
            'ң' => 'н',
            'Ө' => 'О',
            'ө' => 'о',
            'Ұ' | 'Ү' => 'У',
            'ұ' | 'ү' => 'у',
            'Һ' => 'Х',
            'һ' => 'х',
            'І' => 'И',
            'і' => 'и',
            other => other,
        })
        .collect()
}

/// A village name `(Kazakh, Russian)`; `russian_share` of them are Russian names.
pub(crate) fn village(rng: &mut Stream, russian_share: f64) -> (String, String) {
    if rng.chance(russian_share) {
        let v = RUSSIAN_VILLAGES[rng.below(RUSSIAN_VILLAGES.len())];
        return (v.to_string(), v.to_string());
    }
    let kk = format!(
        "{}{}",
        VILLAGE_HEADS[rng.below(VILLAGE_HEADS.len())],
        VILLAGE_TAILS[rng.below(VILLAGE_TAILS.len())]
    );
    let ru = transliterate(&kk);
    (kk, ru)
}

/// `(Kazakh nominative, Kazakh possessive, Russian)` labels of a school type.
fn labels(t: SchoolType, small: bool) -> (&'static str, &'static str, &'static str) {
    use SchoolType::*;
    if small {
        return (
            "шағын жинақты мектеп",
            "шағын жинақты мектебі",
            "Малокомплектная школа",
        );
    }
    match t {
        General => (
            "жалпы білім беретін мектеп",
            "жалпы білім беретін мектебі",
            "Общеобразовательная школа",
        ),
        Gymnasium => ("гимназия", "гимназиясы", "Гимназия"),
        Lyceum => ("лицей", "лицейі", "Лицей"),
        SchoolGymnasium => ("мектеп-гимназия", "мектеп-гимназиясы", "Школа-гимназия"),
        SchoolLyceum => ("мектеп-лицей", "мектеп-лицейі", "Школа-лицей"),
        Specialized => (
            "мамандандырылған мектеп",
            "мамандандырылған мектебі",
            "Специализированная школа",
        ),
        Evening => ("кешкі мектеп", "кешкі мектебі", "Вечерняя школа"),
        International => (
            "халықаралық мектеп",
            "халықаралық мектебі",
            "Международная школа",
        ),
        Autonomous => (
            "Назарбаев Зияткерлік мектебі",
            "Назарбаев Зияткерлік мектебі",
            "Назарбаев Интеллектуальная школа",
        ),
        Correctional => (
            "арнайы (түзету) мектебі",
            "арнайы (түзету) мектебі",
            "Специальная (коррекционная) школа",
        ),
        Sanatorium => (
            "санаторлық мектеп-интернат",
            "санаторлық мектеп-интернаты",
            "Санаторная школа-интернат",
        ),
        Other => ("мектеп", "мектебі", "Школа"),
    }
}

/// The names of an urban school numbered `n` in its city or city district.
pub(crate) fn urban_name(
    rng: &mut Stream,
    t: SchoolType,
    n: u32,
    unit_kk: &str,
    unit_ru: &str,
) -> (String, String) {
    let (kk, _, ru) = labels(t, false);
    if t == SchoolType::Autonomous {
        return (format!("{unit_kk} {kk}"), format!("{ru} ({unit_ru})"));
    }
    if rng.chance(0.2) {
        let (person_kk, person_ru) = PEOPLE[rng.below(PEOPLE.len())];
        return (
            format!("{person_kk} атындағы № {n} {kk}"),
            format!("{ru} № {n} имени {person_ru}"),
        );
    }
    (format!("№ {n} {kk}"), format!("{ru} № {n}"))
}

/// The names of a rural school in `village`.
pub(crate) fn rural_name(
    t: SchoolType,
    small: bool,
    village: &(String, String),
) -> (String, String) {
    let (_, kk, ru) = labels(t, small);
    (
        format!("{} ауылының {kk}", village.0),
        format!("{ru} села {}", village.1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::rng::Tag;

    #[test]
    fn names_read_like_the_registers() {
        assert_eq!(transliterate("Қарабұлақ"), "Карабулак");
        assert_eq!(transliterate("Өскемен"), "Оскемен");
        let v = ("Ақсу".to_string(), "Аксу".to_string());
        assert_eq!(
            rural_name(SchoolType::General, false, &v),
            (
                "Ақсу ауылының жалпы білім беретін мектебі".to_string(),
                "Общеобразовательная школа села Аксу".to_string()
            )
        );
        assert_eq!(
            rural_name(SchoolType::General, true, &v).1,
            "Малокомплектная школа села Аксу"
        );
        let mut rng = Stream::new(1, Tag::Schools, &[]);
        let names: Vec<_> = (0..50)
            .map(|_| urban_name(&mut rng, SchoolType::SchoolGymnasium, 7, "", ""))
            .collect();
        assert!(names.contains(&(
            "№ 7 мектеп-гимназия".to_string(),
            "Школа-гимназия № 7".to_string()
        )));
        assert!(
            names
                .iter()
                .any(|(kk, ru)| kk.contains("атындағы № 7") && ru.contains("№ 7 имени"))
        );
    }
}
