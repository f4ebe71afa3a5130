//! Subjects and the curriculum: which subjects a class of a grade and a
//! language of instruction is marked in, and how each is marked.

/// One subject of the `subjects` table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject {
    pub(crate) id: i64,
    pub(crate) name_kk: &'static str,
    pub(crate) name_ru: &'static str,
    /// "With certification": counted in reports (SPEC §4.2).
    pub(crate) certified: bool,
    /// How much harder than average its marks are (ability units).
    pub(crate) difficulty: f64,
}

/// The language a class is taught in (its curriculum's language subjects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Lang {
    Kk,
    Ru,
}

const fn s(
    id: i64,
    name_kk: &'static str,
    name_ru: &'static str,
    certified: bool,
    difficulty: f64,
) -> Subject {
    Subject {
        id,
        name_kk,
        name_ru,
        certified,
        difficulty,
    }
}

/// Every subject, by id.
pub(crate) const SUBJECTS: [Subject; 29] = [
    s(1, "Қазақ тілі", "Казахский язык", true, 0.25),
    s(2, "Қазақ әдебиеті", "Казахская литература", true, 0.05),
    s(3, "Орыс тілі", "Русский язык", true, 0.25),
    s(4, "Орыс әдебиеті", "Русская литература", true, 0.05),
    s(
        5,
        "Қазақ тілі мен әдебиеті",
        "Казахский язык и литература",
        true,
        0.2,
    ),
    s(
        6,
        "Орыс тілі мен әдебиеті",
        "Русский язык и литература",
        true,
        0.2,
    ),
    s(7, "Әдебиеттік оқу", "Литературное чтение", true, -0.1),
    s(8, "Ағылшын тілі", "Английский язык", true, 0.2),
    s(9, "Математика", "Математика", true, 0.3),
    s(10, "Алгебра", "Алгебра", true, 0.35),
    s(
        11,
        "Алгебра және анализ бастамалары",
        "Алгебра и начала анализа",
        true,
        0.35,
    ),
    s(12, "Геометрия", "Геометрия", true, 0.35),
    s(13, "Информатика", "Информатика", true, -0.1),
    s(14, "Цифрлық сауаттылық", "Цифровая грамотность", true, -0.3),
    s(15, "Жаратылыстану", "Естествознание", true, 0.0),
    s(16, "Дүниетану", "Познание мира", true, -0.2),
    s(17, "Физика", "Физика", true, 0.35),
    s(18, "Химия", "Химия", true, 0.3),
    s(19, "Биология", "Биология", true, 0.1),
    s(20, "География", "География", true, 0.1),
    s(21, "Қазақстан тарихы", "История Казахстана", true, 0.15),
    s(22, "Дүниежүзі тарихы", "Всемирная история", true, 0.05),
    s(23, "Құқық негіздері", "Основы права", true, 0.0),
    s(24, "Көркем еңбек", "Художественный труд", true, -0.8),
    s(25, "Музыка", "Музыка", true, -0.9),
    s(26, "Дене шынықтыру", "Физическая культура", true, -1.0),
    s(
        27,
        "Алғашқы әскери және технологиялық дайындық",
        "Начальная военная и технологическая подготовка",
        true,
        -0.6,
    ),
    s(28, "Өзін-өзі тану", "Самопознание", false, -0.3),
    s(
        29,
        "Қаржылық сауаттылық",
        "Финансовая грамотность",
        false,
        0.0,
    ),
];

/// The subject with id `id` (ids are 1-based positions in [`SUBJECTS`]).
pub(crate) fn subject(id: i64) -> &'static Subject {
    &SUBJECTS[(id.clamp(1, SUBJECTS.len() as i64) - 1) as usize]
}

/// Physical education: the subject health exemptions (`БОС`) concern.
pub(crate) const PE: i64 = 26;

/// How a subject is marked in a grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marking {
    /// Marks 1–5.
    Graded,
    /// Credit / no credit (`ЕСП` / `ЕСЖ`).
    Credit,
}

/// One subject of a class's curriculum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lesson {
    pub(crate) subject: i64,
    pub(crate) marking: Marking,
    /// Whether grades 9 and 11 sit a final exam (a `FINAL` mark) in it.
    pub(crate) exam: bool,
}

/// The subjects a class of `parallel` taught in `lang` is marked in, by
/// ascending subject id. Grades 0 and 1 get no marks: empty.
pub(crate) fn curriculum(parallel: i32, lang: Lang) -> Vec<Lesson> {
    // Language subjects: first language, its literature, the second language.
    let (l1, lit, l2) = match lang {
        Lang::Kk => (1, 2, 6),
        Lang::Ru => (3, 4, 5),
    };
    let ids: Vec<i64> = match parallel {
        2..=4 => vec![l1, l2, 7, 8, 9, 14, 15, 16, 24, 25, PE, 28],
        5 => vec![l1, lit, l2, 8, 9, 13, 15, 21, 24, 25, PE, 28],
        6 => vec![l1, lit, l2, 8, 9, 13, 15, 21, 22, 24, PE, 28],
        7 | 8 => vec![l1, lit, l2, 8, 10, 12, 13, 17, 18, 19, 20, 21, 22, PE, 28],
        9 => vec![
            l1, lit, l2, 8, 10, 12, 13, 17, 18, 19, 20, 21, 22, PE, 28, 29,
        ],
        10.. => vec![l1, lit, l2, 8, 11, 12, 13, 17, 18, 19, 21, 22, PE, 27, 28],
        _ => Vec::new(),
    };
    let mut lessons: Vec<Lesson> = ids
        .into_iter()
        .map(|id| Lesson {
            subject: id,
            marking: if (id == 25 && parallel <= 4) || (id == PE && parallel >= 10) {
                Marking::Credit
            } else {
                Marking::Graded
            },
            exam: matches!(parallel, 9 | 11 | 12) && (id == l1 || id == 10 || id == 11 || id == 21),
        })
        .collect();
    lessons.sort_by_key(|l| l.subject);
    lessons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_ids_are_positions() {
        for (i, s) in SUBJECTS.iter().enumerate() {
            assert_eq!(s.id, i as i64 + 1);
            assert_eq!(subject(s.id).id, s.id);
        }
        assert_eq!(SUBJECTS.iter().filter(|s| !s.certified).count(), 2);
    }

    #[test]
    fn curricula_swap_language_subjects_and_skip_grade_one() {
        assert!(curriculum(1, Lang::Kk).is_empty());
        assert!(curriculum(0, Lang::Ru).is_empty());
        let kk: Vec<i64> = curriculum(5, Lang::Kk).iter().map(|l| l.subject).collect();
        let ru: Vec<i64> = curriculum(5, Lang::Ru).iter().map(|l| l.subject).collect();
        assert_eq!(kk, [1, 2, 6, 8, 9, 13, 15, 21, 24, 25, 26, 28]);
        assert_eq!(ru, [3, 4, 5, 8, 9, 13, 15, 21, 24, 25, 26, 28]);
        for p in 2..=12 {
            let n = curriculum(p, Lang::Kk).len();
            assert!((12..=16).contains(&n), "grade {p}: {n} subjects");
        }
        let g9 = curriculum(9, Lang::Ru);
        let exams: Vec<i64> = g9.iter().filter(|l| l.exam).map(|l| l.subject).collect();
        assert_eq!(exams, [3, 10, 21]);
        assert!(curriculum(7, Lang::Kk).iter().all(|l| !l.exam));
        let credit = |p| {
            curriculum(p, Lang::Kk)
                .iter()
                .filter(|l| l.marking == Marking::Credit)
                .map(|l| l.subject)
                .collect::<Vec<_>>()
        };
        assert_eq!(credit(3), [25]);
        assert_eq!(credit(10), [PE]);
        assert!(credit(7).is_empty());
    }
}
