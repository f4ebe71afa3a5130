// Replays what Metabase does through pgjdbc when it adds a PostgreSQL
// database, syncs it and runs questions, against a Sapa server. Prints one
// "key=value" line per finding for tests/server/jdbc.rs to check; any
// SQLException fails the run with its SQLSTATE.
//
// Usage: java -cp postgresql.jar:. MetabaseSync HOST PORT
import java.sql.*;
import java.util.*;

public class MetabaseSync {
    static void out(String key, Object value) {
        System.out.println(key + "=" + value);
    }

    static List<String> column(ResultSet rs, String name) throws SQLException {
        List<String> values = new ArrayList<>();
        while (rs.next()) values.add(rs.getString(name));
        rs.close();
        return values;
    }

    // Each row of rs as the named columns joined by ':'.
    static List<String> rows(ResultSet rs, String... names) throws SQLException {
        List<String> values = new ArrayList<>();
        while (rs.next()) {
            StringBuilder sb = new StringBuilder();
            for (String name : names) {
                if (sb.length() > 0) sb.append(':');
                sb.append(rs.getString(name));
            }
            values.add(sb.toString());
        }
        rs.close();
        return values;
    }

    static int count(ResultSet rs) throws SQLException {
        int n = 0;
        while (rs.next()) n++;
        rs.close();
        return n;
    }

    // Metabase's connection and sync SQL (PostgreSQL driver), as sent.
    static final String[] SYNC_SQL = {
        "SET extra_float_digits = 2",
        "SET application_name = 'Metabase v0.55.1 [sapa-test]'",
        "SHOW TRANSACTION ISOLATION LEVEL",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
        "SELECT 1",
        "show timezone",
        "SELECT \"n\".\"nspname\" AS \"schema\", \"c\".\"relname\" AS \"name\", CASE \"c\".\"relkind\" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS \"type\", \"d\".\"description\" AS \"description\", \"stat\".\"n_live_tup\" AS \"estimated_row_count\" FROM \"pg_catalog\".\"pg_class\" AS \"c\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"n\" ON \"c\".\"relnamespace\" = \"n\".\"oid\" LEFT JOIN \"pg_catalog\".\"pg_description\" AS \"d\" ON (\"c\".\"oid\" = \"d\".\"objoid\") AND (\"d\".\"objsubid\" = '0') AND (\"d\".\"classoid\" = 'pg_class'::regclass) LEFT JOIN \"pg_stat_user_tables\" AS \"stat\" ON (\"n\".\"nspname\" = \"stat\".\"schemaname\") AND (\"c\".\"relname\" = \"stat\".\"relname\") WHERE (\"c\".\"relnamespace\" = \"n\".\"oid\") AND (\"n\".\"nspname\" !~ '^pg_') AND (\"n\".\"nspname\" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND (\"n\".\"nspname\" IN ('public')) ORDER BY \"type\" ASC, \"schema\" ASC, \"name\" ASC",
        "SELECT \"c\".\"column_name\" AS \"name\", CASE WHEN \"c\".\"udt_schema\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"c\".\"udt_name\") ELSE FORMAT('\"%s\".\"%s\"', \"c\".\"udt_schema\", \"c\".\"udt_name\") END AS \"database-type\", \"c\".\"ordinal_position\" - 1 AS \"database-position\", \"c\".\"table_schema\" AS \"table-schema\", \"c\".\"table_name\" AS \"table-name\", \"pk\".\"column_name\" IS NOT NULL AS \"pk?\", COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST(\"c\".\"table_schema\" AS TEXT), CAST(\"c\".\"table_name\" AS TEXT)) AS REGCLASS) AS OID), \"c\".\"ordinal_position\") AS \"field-comment\", ((\"column_default\" IS NULL) OR (LOWER(\"column_default\") = 'null')) AND (\"is_nullable\" = 'NO') AND NOT (((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO')) AS \"database-required\", ((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO') AS \"database-is-auto-increment\" FROM \"information_schema\".\"columns\" AS \"c\" LEFT JOIN (SELECT \"tc\".\"table_schema\", \"tc\".\"table_name\", \"kc\".\"column_name\" FROM \"information_schema\".\"table_constraints\" AS \"tc\" INNER JOIN \"information_schema\".\"key_column_usage\" AS \"kc\" ON (\"tc\".\"constraint_name\" = \"kc\".\"constraint_name\") AND (\"tc\".\"table_schema\" = \"kc\".\"table_schema\") AND (\"tc\".\"table_name\" = \"kc\".\"table_name\") WHERE \"tc\".\"constraint_type\" = 'PRIMARY KEY') AS \"pk\" ON (\"c\".\"table_schema\" = \"pk\".\"table_schema\") AND (\"c\".\"table_name\" = \"pk\".\"table_name\") AND (\"c\".\"column_name\" = \"pk\".\"column_name\") WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"table_schema\" = 'public') ORDER BY \"table-schema\" ASC, \"table-name\" ASC, \"database-position\" ASC",
        "SELECT \"fk_ns\".\"nspname\" AS \"fk-table-schema\", \"fk_table\".\"relname\" AS \"fk-table-name\", \"fk_column\".\"attname\" AS \"fk-column-name\", \"pk_ns\".\"nspname\" AS \"pk-table-schema\", \"pk_table\".\"relname\" AS \"pk-table-name\", \"pk_column\".\"attname\" AS \"pk-column-name\" FROM \"pg_constraint\" AS \"c\" INNER JOIN \"pg_class\" AS \"fk_table\" ON \"c\".\"conrelid\" = \"fk_table\".\"oid\" INNER JOIN \"pg_namespace\" AS \"fk_ns\" ON \"c\".\"connamespace\" = \"fk_ns\".\"oid\" INNER JOIN \"pg_attribute\" AS \"fk_column\" ON \"c\".\"conrelid\" = \"fk_column\".\"attrelid\" INNER JOIN \"pg_class\" AS \"pk_table\" ON \"c\".\"confrelid\" = \"pk_table\".\"oid\" INNER JOIN \"pg_namespace\" AS \"pk_ns\" ON \"pk_table\".\"relnamespace\" = \"pk_ns\".\"oid\" INNER JOIN \"pg_attribute\" AS \"pk_column\" ON \"c\".\"confrelid\" = \"pk_column\".\"attrelid\" WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"contype\" = 'f'::char) AND (\"fk_column\".\"attnum\" = ANY(c.conkey)) AND (\"pk_column\".\"attnum\" = ANY(c.confkey)) AND (\"fk_ns\".\"nspname\" = 'public') ORDER BY \"fk-table-schema\" ASC, \"fk-table-name\" ASC",
        "SELECT current_setting('server_version_num'), pg_typeof(1), has_table_privilege('public.schools', 'SELECT')",
    };

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/sapa";
        Properties props = new Properties();
        props.setProperty("user", "sapa");
        props.setProperty("sslmode", "disable");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            DatabaseMetaData meta = conn.getMetaData();
            out("product", meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion());

            int step = 0;
            for (String sql : SYNC_SQL) {
                try (Statement st = conn.createStatement()) {
                    boolean rows = st.execute(sql);
                    if (rows) {
                        ResultSet rs = st.getResultSet();
                        ResultSetMetaData md = rs.getMetaData();
                        int n = 0;
                        List<String> first = new ArrayList<>();
                        while (rs.next()) {
                            if (n < 200) {
                                StringBuilder sb = new StringBuilder();
                                for (int i = 1; i <= md.getColumnCount(); i++) {
                                    if (i > 1) sb.append('|');
                                    sb.append(rs.getString(i));
                                }
                                first.add(sb.toString());
                            }
                            n++;
                        }
                        out("sync." + step + ".rows", n);
                        for (String r : first) out("sync." + step + ".row", r);
                    }
                } catch (SQLException e) {
                    throw new SQLException("Metabase sync statement " + step + " failed: " + sql + "\n" + e.getMessage(), e.getSQLState(), e);
                }
                step++;
            }

            out("schemas", column(meta.getSchemas(), "TABLE_SCHEM"));
            out("tables", column(meta.getTables(null, "public", "%", new String[] {"TABLE"}), "TABLE_NAME"));
            out("views", column(meta.getTables(null, "public", "%", new String[] {"VIEW"}), "TABLE_NAME"));
            ResultSet cols = meta.getColumns(null, "public", "schools", "%");
            List<String> described = new ArrayList<>();
            while (cols.next()) described.add(cols.getString("COLUMN_NAME") + ":" + cols.getString("TYPE_NAME"));
            cols.close();
            out("columns.schools", described);

            // The declared keys, as Metabase's JDBC sync reads them.
            for (String t : new String[] {"schools", "calendar", "marks", "indicators"}) {
                out("pk." + t, rows(meta.getPrimaryKeys(null, "public", t),
                        "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ", "PK_NAME"));
            }
            String[] fk = {"FKTABLE_NAME", "FKCOLUMN_NAME", "PKTABLE_NAME", "PKCOLUMN_NAME",
                    "KEY_SEQ", "FK_NAME", "PK_NAME", "UPDATE_RULE", "DELETE_RULE"};
            out("imported.schools", rows(meta.getImportedKeys(null, "public", "schools"), fk));
            out("imported.marks", rows(meta.getImportedKeys(null, "public", "marks"), fk));
            out("exported.regions", rows(meta.getExportedKeys(null, "public", "regions"), fk));
            String[] index = {"TABLE_NAME", "NON_UNIQUE", "INDEX_NAME", "ORDINAL_POSITION",
                    "COLUMN_NAME", "ASC_OR_DESC"};
            out("indexes.schools", rows(meta.getIndexInfo(null, "public", "schools", true, false), index));
            out("indexes.calendar", rows(meta.getIndexInfo(null, "public", "calendar", false, false), index));

            // A question with a parameter, run past pgjdbc's prepare
            // threshold (5): later runs use a named server-side statement
            // and binary results.
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT count(*) AS n, sum(students) AS students, max(quality_pct) AS q FROM report_by_school WHERE academic_year = ? AND period = ?")) {
                List<String> runs = new ArrayList<>();
                for (int i = 0; i < 7; i++) {
                    ps.setInt(1, 2024);
                    ps.setString(2, "Q1");
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        runs.add(rs.getLong("n") + "/" + rs.getLong("students") + "/" + rs.getDouble("q"));
                    }
                }
                out("prepared.runs", String.join(",", runs));
            }

            // setMaxRows and a fetch size inside a transaction: pgjdbc
            // executes with a row limit and fetches through a suspended
            // portal.
            conn.setAutoCommit(false);
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT student_id FROM student_status WHERE academic_year = ? ORDER BY student_id, period")) {
                ps.setFetchSize(7);
                ps.setInt(1, 2024);
                out("fetch.rows", count(ps.executeQuery()));
                ps.setMaxRows(3);
                out("maxrows.rows", count(ps.executeQuery()));
            }
            conn.commit();
            conn.setAutoCommit(true);

            try (Statement st = conn.createStatement()) {
                st.executeQuery("SELECT * FROM no_such_table");
                out("error", "none");
            } catch (SQLException e) {
                out("error.sqlstate", e.getSQLState());
            }
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                rs.next();
                out("after_error", rs.getInt(1));
            }
        }
    }
}
