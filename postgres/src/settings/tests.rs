use super::*;

#[test]
fn settings_answer_as_postgres_and_unknown_ones_are_none() {
    assert_eq!(setting("server_version").as_deref(), Some(PG_VERSION));
    assert_eq!(setting("TimeZone").as_deref(), Some("UTC"));
    assert_eq!(setting("search_path").as_deref(), Some("public"));
    assert_eq!(setting("no_such_thing"), None);
    for name in FIXED_SETTINGS {
        assert!(setting(name).is_some(), "{name}");
    }
}

#[test]
fn timeouts_read_as_postgres_writes_them() {
    assert_eq!(timeout_ms("5s"), Some(5000));
    assert_eq!(timeout_ms("250ms"), Some(250));
    assert_eq!(timeout_ms("2min"), Some(120_000));
    assert_eq!(timeout_ms("0"), Some(0));
    assert_eq!(timeout_ms("1500"), Some(1500));
    assert_eq!(timeout_ms("soon"), None);
}

#[test]
fn durations_show_as_postgres_shows_them() {
    assert_eq!(pg_duration(0), "0");
    assert_eq!(pg_duration(300), "300ms");
    assert_eq!(pg_duration(5000), "5s");
    assert_eq!(pg_duration(1500), "1500ms");
    assert_eq!(pg_duration(120_000), "2min");
    assert_eq!(pg_duration(3_600_000), "1h");
}

#[test]
fn startup_settings_override_the_server_s() {
    use datafusion_postgres::pgwire::api::DefaultClient;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    let mut client = DefaultClient::<()>::new(addr, false);
    let metadata = client.metadata_mut();
    metadata.insert(STATEMENT_TIMEOUT_KEY.to_string(), "30000".to_string());
    metadata.insert(
        "options".to_string(),
        "-c statement_timeout=5s --extra-float-digits=1 -c nonsense=1".to_string(),
    );
    apply_startup(&mut client);
    assert_eq!(client.metadata()[STATEMENT_TIMEOUT_KEY], "5000");
    assert_eq!(client.metadata()["extra_float_digits"], "1");
    assert!(!client.metadata().contains_key("nonsense"));
    client
        .metadata_mut()
        .insert("statement_timeout".to_string(), "0".to_string());
    apply_startup(&mut client);
    assert!(!client.metadata().contains_key(STATEMENT_TIMEOUT_KEY));
}

#[test]
fn set_config_holds_at_once_and_refuses_what_it_cannot_change() {
    let settings = SessionSettings::default();
    assert_eq!(settings.get("jit").ok().flatten().as_deref(), Some("off"));
    assert_eq!(
        settings.set("jit", "off", false).ok().as_deref(),
        Some("off")
    );
    assert_eq!(
        settings
            .set("application_name", "report", false)
            .ok()
            .as_deref(),
        Some("report")
    );
    assert_eq!(
        settings.get("APPLICATION_NAME").ok().flatten().as_deref(),
        Some("report")
    );
    assert_eq!(
        settings.set("myapp.page", "3", true).ok().as_deref(),
        Some("3")
    );
    assert!(matches!(
        settings.set("server_version", "1", false),
        Err(SettingError::CannotChange(_))
    ));
    assert!(matches!(
        settings.set("nope", "1", false),
        Err(SettingError::Unknown(_))
    ));
    assert!(matches!(
        settings.set("statement_timeout", "soon", false),
        Err(SettingError::BadValue(..))
    ));
    assert!(matches!(
        settings.set("TimeZone", "UTC", false),
        Err(SettingError::UseSet(_))
    ));
    assert!(matches!(
        settings.get("nope"),
        Err(SettingError::Unknown(_))
    ));
    // Only the session-wide change waits to be applied.
    assert_eq!(lock(&settings.pending).len(), 1);
}
