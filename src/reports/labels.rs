//! Kazakh and Russian header labels for result columns, and which columns
//! are percentages.
//!
//! The workbook a report author pastes into the National Report carries two
//! header rows, Kazakh then Russian. [`LABELS`] maps a column's SQL name to
//! both; a column without an entry is headed by its SQL name in both rows.
//! The wording follows the source documents (`seeds/000_…txt`): Nбар, Nбос,
//! Nү.т., Nүз, Nү.ж. are the seed's own symbols.

/// `(column, Kazakh label, Russian label)`, sorted by column name (a unit
/// test checks it). To add a column, insert one line at its sorted place.
pub const LABELS: &[(&str, &str, &str)] = &[
    ("academic_year", "Оқу жылы", "Учебный год"),
    (
        "academic_year_label",
        "Оқу жылының атауы",
        "Обозначение учебного года",
    ),
    (
        "after_end",
        "Кезең аяқталғаннан кейін қойылған, өзгертілген немесе өшірілген бағалар",
        "Оценки, выставленные, изменённые или удалённые после окончания периода",
    ),
    (
        "after_end_pct",
        "Кезең аяқталғаннан кейінгі бағалар үлесі, %",
        "Доля оценок после окончания периода, %",
    ),
    ("band", "Санаты", "Категория"),
    (
        "below",
        "Талапқа сай емес көрсеткіш",
        "Показатель ниже требуемого",
    ),
    (
        "changed_late",
        "Кезең аяқталғаннан кейін өзгертілген бағалар",
        "Оценки, изменённые после окончания периода",
    ),
    (
        "changed_late_pct",
        "Кезең аяқталғаннан кейін өзгертілген бағалар үлесі, %",
        "Доля оценок, изменённых после окончания периода, %",
    ),
    (
        "changes_after_end",
        "Кезең аяқталғаннан кейінгі өзгерістер саны",
        "Число изменений после окончания периода",
    ),
    ("class_id", "Сынып коды", "Код класса"),
    (
        "cleared_late",
        "Кезең аяқталғаннан кейін өшірілген бағалар",
        "Оценки, удалённые после окончания периода",
    ),
    (
        "cleared_late_pct",
        "Кезең аяқталғаннан кейін өшірілген бағалар үлесі, %",
        "Доля оценок, удалённых после окончания периода, %",
    ),
    ("days_late", "Кешігу, күн", "Опоздание, дней"),
    ("dimension", "Бөлініс", "Разрез"),
    ("district", "Аудан", "Район"),
    ("district_id", "Аудан коды", "Код района"),
    ("district_kk", "Аудан (қаз.)", "Район (каз.)"),
    ("district_ru", "Аудан (орыс.)", "Район (рус.)"),
    ("end_date", "Кезеңнің соңғы күні", "Дата окончания периода"),
    ("excellent", "Үздік оқушылар", "Отличники"),
    ("exempt", "Босатылған оқушылар", "Освобождённые"),
    (
        "from_status",
        "Бастапқы кезеңдегі мәртебе",
        "Статус в базовом периоде",
    ),
    (
        "from_status_pct",
        "Бастапқы мәртебедегі үлесі, %",
        "Доля от базового статуса, %",
    ),
    ("good", "Үлгерімі жақсы оқушылар", "Хорошисты"),
    ("indicator", "Көрсеткіш", "Показатель"),
    ("indicator_kk", "Көрсеткіш (қаз.)", "Показатель (каз.)"),
    ("indicator_ru", "Көрсеткіш (орыс.)", "Показатель (рус.)"),
    ("kind", "Бұзушылық түрі", "Вид нарушения"),
    ("knowledge_quality", "Білім сапасы, %", "Качество знаний, %"),
    ("language", "Оқыту тілі", "Язык обучения"),
    ("level", "Деңгей", "Уровень"),
    ("locality", "Елді мекен түрі", "Тип местности"),
    ("low", "Үлгерімі төмен оқушылар", "Неуспевающие"),
    ("marks_count", "Бағалар саны", "Количество оценок"),
    (
        "marks_recorded",
        "Кезеңнің бағалары (ағымдағы және өшірілген)",
        "Оценки периода (текущие и удалённые)",
    ),
    (
        "meets_performance",
        "Үлгерім деңгейі талапқа сай",
        "Уровень успеваемости соответствует требуемому",
    ),
    (
        "meets_quality",
        "Білім сапасы талапқа сай",
        "Качество знаний соответствует требуемому",
    ),
    (
        "meets_required",
        "Талап етілетін деңгейге сай",
        "Соответствует требуемому уровню",
    ),
    ("n_excellent", "Үздіктер (Nүз)", "Отличники (Nүз)"),
    ("n_exempt", "Босатылғандар (Nбос)", "Освобождённые (Nбос)"),
    ("n_good", "Үлгерімі жақсылар (Nү.ж.)", "Хорошисты (Nү.ж.)"),
    ("n_low", "Үлгерімі төмендер (Nү.т.)", "Неуспевающие (Nү.т.)"),
    ("n_satisfactory", "Үлгерімі орташалар", "Успевающие на «3»"),
    ("n_total", "Оқушылар саны (Nбар)", "Всего учащихся (Nбар)"),
    (
        "n_total_from",
        "Оқушылар саны (Nбар), бастапқы кезең",
        "Всего учащихся (Nбар), базовый период",
    ),
    (
        "n_total_to",
        "Оқушылар саны (Nбар), салыстырылатын кезең",
        "Всего учащихся (Nбар), сравниваемый период",
    ),
    ("n_ungraded", "Бағаланбағандар", "Без итоговой оценки"),
    ("name_kk", "Атауы (қаз.)", "Наименование (каз.)"),
    ("name_ru", "Атауы (орыс.)", "Наименование (рус.)"),
    ("new_mark", "Жаңа баға", "Новая оценка"),
    ("old_mark", "Бұрынғы баға", "Прежняя оценка"),
    ("parallel", "Параллель", "Параллель"),
    (
        "performance_band",
        "Үлгерім деңгейінің санаты",
        "Категория уровня успеваемости",
    ),
    (
        "performance_band_from",
        "Үлгерім деңгейінің санаты, бастапқы кезең",
        "Категория уровня успеваемости, базовый период",
    ),
    (
        "performance_band_to",
        "Үлгерім деңгейінің санаты, салыстырылатын кезең",
        "Категория уровня успеваемости, сравниваемый период",
    ),
    (
        "performance_change",
        "Үлгерім деңгейінің өзгерісі, п.т.",
        "Изменение уровня успеваемости, п.п.",
    ),
    (
        "performance_from_pct",
        "Үлгерім деңгейі, %, бастапқы кезең",
        "Уровень успеваемости, %, базовый период",
    ),
    (
        "performance_level",
        "Үлгерім деңгейі, %",
        "Уровень успеваемости, %",
    ),
    ("performance_pct", "Үлгерім, %", "Успеваемость, %"),
    (
        "performance_rank",
        "Үлгерім деңгейі бойынша орны",
        "Место по уровню успеваемости",
    ),
    (
        "performance_to_pct",
        "Үлгерім деңгейі, %, салыстырылатын кезең",
        "Уровень успеваемости, %, сравниваемый период",
    ),
    ("period", "Кезең", "Период"),
    (
        "period_order",
        "Кезеңнің реттік нөмірі",
        "Порядковый номер периода",
    ),
    (
        "quality_band",
        "Білім сапасының санаты",
        "Категория качества знаний",
    ),
    (
        "quality_band_from",
        "Білім сапасының санаты, бастапқы кезең",
        "Категория качества знаний, базовый период",
    ),
    (
        "quality_band_to",
        "Білім сапасының санаты, салыстырылатын кезең",
        "Категория качества знаний, сравниваемый период",
    ),
    (
        "quality_change",
        "Білім сапасының өзгерісі, п.т.",
        "Изменение качества знаний, п.п.",
    ),
    (
        "quality_from_pct",
        "Білім сапасы, %, бастапқы кезең",
        "Качество знаний, %, базовый период",
    ),
    ("quality_pct", "Сапа, %", "Качество, %"),
    (
        "quality_rank",
        "Білім сапасы бойынша орны",
        "Место по качеству знаний",
    ),
    (
        "quality_to_pct",
        "Білім сапасы, %, салыстырылатын кезең",
        "Качество знаний, %, сравниваемый период",
    ),
    (
        "ranked_units",
        "Рейтингтегі бірліктер саны",
        "Число участников рейтинга",
    ),
    ("recorded_at", "Енгізілген уақыты", "Время внесения"),
    ("region", "Облыс", "Область"),
    ("region_id", "Облыс коды", "Код области"),
    ("region_kk", "Облыс (қаз.)", "Область (каз.)"),
    ("region_ru", "Облыс (орыс.)", "Область (рус.)"),
    (
        "required_pct",
        "Талап етілетін деңгей, %",
        "Требуемый уровень, %",
    ),
    (
        "required_performance_pct",
        "Үлгерім деңгейінің талап етілетін мәні, %",
        "Требуемый уровень успеваемости, %",
    ),
    (
        "required_quality_pct",
        "Білім сапасының талап етілетін мәні, %",
        "Требуемое качество знаний, %",
    ),
    ("row_level", "Жол деңгейі", "Уровень строки"),
    (
        "satisfactory",
        "Үлгерімі орташа оқушылар",
        "Успевающие на «3»",
    ),
    ("school", "Мектеп", "Школа"),
    ("school_id", "Мектеп коды", "Код школы"),
    ("school_kk", "Мектеп (қаз.)", "Школа (каз.)"),
    (
        "school_required_pct",
        "Мектептерге талап етілетін деңгей, %",
        "Требуемый уровень для школ, %",
    ),
    ("school_ru", "Мектеп (орыс.)", "Школа (рус.)"),
    ("school_type", "Мектеп түрі", "Тип школы"),
    ("schools", "Мектептер саны", "Количество школ"),
    (
        "schools_meeting",
        "Талапқа сай мектептер",
        "Школы, соответствующие требуемому уровню",
    ),
    (
        "schools_meeting_pct",
        "Талапқа сай мектептер, %",
        "Школы, соответствующие требуемому уровню, %",
    ),
    (
        "schools_meeting_performance",
        "Үлгерім деңгейі талапқа сай мектептер",
        "Школы с требуемым уровнем успеваемости",
    ),
    (
        "schools_meeting_performance_pct",
        "Үлгерім деңгейі талапқа сай мектептер, %",
        "Школы с требуемым уровнем успеваемости, %",
    ),
    (
        "schools_meeting_quality",
        "Білім сапасы талапқа сай мектептер",
        "Школы с требуемым качеством знаний",
    ),
    (
        "schools_meeting_quality_pct",
        "Білім сапасы талапқа сай мектептер, %",
        "Школы с требуемым качеством знаний, %",
    ),
    (
        "schools_not_meeting",
        "Талапқа сай емес мектептер",
        "Школы ниже требуемого уровня",
    ),
    (
        "set_late",
        "Мерзімінен кеш алғаш қойылған бағалар",
        "Оценки, впервые выставленные с опозданием",
    ),
    (
        "set_late_pct",
        "Мерзімінен кеш алғаш қойылған бағалар үлесі, %",
        "Доля оценок, впервые выставленных с опозданием, %",
    ),
    ("status", "Мәртебе", "Статус"),
    ("student_id", "Оқушы коды", "Код ученика"),
    ("students", "Оқушылар саны", "Количество учащихся"),
    ("subject_id", "Пән коды", "Код предмета"),
    ("subject_kk", "Пән (қаз.)", "Предмет (каз.)"),
    ("subject_ru", "Пән (орыс.)", "Предмет (рус.)"),
    (
        "to_status",
        "Салыстырылатын кезеңдегі мәртебе",
        "Статус в сравниваемом периоде",
    ),
    ("ungraded", "Бағаланбаған оқушылар", "Без итоговой оценки"),
    (
        "ungraded_pct",
        "Бағаланбағандар үлесі, %",
        "Доля без итоговой оценки, %",
    ),
    ("unit_id", "Бірлік коды", "Код единицы"),
    ("value", "Мәні", "Значение"),
    ("value_kk", "Мәні (қаз.)", "Значение (каз.)"),
    ("value_pct", "Көрсеткіш мәні, %", "Значение показателя, %"),
    ("value_ru", "Мәні (орыс.)", "Значение (рус.)"),
];

/// The `(Kazakh, Russian)` labels of `column`, if it has any.
pub fn label(column: &str) -> Option<(&'static str, &'static str)> {
    LABELS
        .binary_search_by(|(name, _, _)| (*name).cmp(column))
        .ok()
        .map(|i| (LABELS[i].1, LABELS[i].2))
}

/// The `(Kazakh, Russian)` header of `column`: its labels, or its SQL name
/// in both rows when it has none.
pub fn header(column: &str) -> (&str, &str) {
    label(column).unwrap_or((column, column))
}

/// Whether `column` holds a percentage (0–100), which the workbook shows as
/// a `0.0%` cell of value/100. The rule is on the name, so that queries can
/// opt in by naming: a column is a percentage when its name ends with
/// `_pct` or `_share`, starts with `share_`, or is `performance_level` or
/// `knowledge_quality` (the §5.3 indicators).
pub fn is_percentage(column: &str) -> bool {
    column.ends_with("_pct")
        || column.ends_with("_share")
        || column.starts_with("share_")
        || column == "performance_level"
        || column == "knowledge_quality"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_unique_and_complete() {
        for pair in LABELS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} ≥ {}", pair[0].0, pair[1].0);
        }
        for (name, kk, ru) in LABELS {
            assert!(!kk.trim().is_empty() && !ru.trim().is_empty(), "{name}");
            assert_eq!(label(name), Some((*kk, *ru)));
        }
    }

    /// Every column of the §11 views and of the name columns reports add.
    #[test]
    fn the_view_and_name_columns_are_labelled() {
        let report_by_school = "academic_year period region_id district_id school_id parallel \
            students excellent good satisfactory low exempt ungraded quality_pct \
            performance_pct marks_count";
        let indicators = "academic_year period level unit_id n_total n_exempt n_low \
            n_excellent n_good n_ungraded performance_level performance_band \
            knowledge_quality quality_band schools schools_meeting_performance \
            schools_meeting_quality";
        let student_status = "academic_year period region_id district_id school_id class_id \
            parallel student_id status marks_count locality language school_type";
        let mark_audit = "academic_year period region_id district_id school_id class_id \
            student_id subject_id kind old_mark new_mark recorded_at end_date days_late";
        let names = "region_kk region_ru district_kk district_ru school_kk school_ru \
            name_kk name_ru row_level subject_kk subject_ru";
        for column in [
            report_by_school,
            indicators,
            student_status,
            mark_audit,
            names,
        ]
        .iter()
        .flat_map(|cols| cols.split_whitespace())
        {
            assert!(label(column).is_some(), "{column} has no label");
        }
    }

    #[test]
    fn headers_fall_back_to_the_sql_name() {
        assert_eq!(header("quality_pct"), ("Сапа, %", "Качество, %"));
        assert_eq!(
            header("n_total"),
            ("Оқушылар саны (Nбар)", "Всего учащихся (Nбар)")
        );
        assert_eq!(
            header("mystery_column"),
            ("mystery_column", "mystery_column")
        );
    }

    #[test]
    fn percentages_are_recognised_by_name() {
        for yes in [
            "quality_pct",
            "performance_pct",
            "performance_level",
            "knowledge_quality",
            "share_ungraded",
            "ungraded_share",
        ] {
            assert!(is_percentage(yes), "{yes}");
        }
        for no in [
            "students",
            "performance_band",
            "quality_band",
            "pct_students",
            "shares",
            "n_total",
        ] {
            assert!(!is_percentage(no), "{no}");
        }
    }
}
