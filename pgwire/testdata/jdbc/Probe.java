// Probe connects to lakectl's Postgres port with the PostgreSQL JDBC driver and does
// what Metabase's sync does with a new database: it lists schemas, tables and views,
// describes each table's columns and primary key through java.sql.DatabaseMetaData,
// checks it may select from each table, and reads a view with a prepared statement.
// It prints what it got, for pgwire's TestJDBCMetabase to compare with a golden file.
//
// Then it runs the SQL of Metabase's PostgreSQL driver, which sync sends besides the
// driver's DatabaseMetaData calls: each file of the directory METABASE_SQL (in name
// order), its leading comment lines dropped, as a prepared statement; a comment line
// "-- ? = a, b" gives the values of its parameters.
//
// Run: PGPASSWORD=... java -cp /usr/share/java/postgresql.jar Probe.java HOST:PORT USER METABASE_SQL
import java.nio.file.*;
import java.sql.*;
import java.util.*;

public class Probe {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", System.getenv("PGPASSWORD"));
        props.setProperty("sslmode", "disable");
        // Metabase's defaults: the driver's prepareThreshold (5), so that the sixth
        // execution of a statement uses a named server-side statement.
        try (Connection conn = DriverManager.getConnection("jdbc:postgresql://" + args[0] + "/lakectl", props)) {
            DatabaseMetaData md = conn.getMetaData();
            System.out.println("# product " + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion() + "." + md.getDatabaseMinorVersion());
            System.out.println("# getSchemas()");
            print(md.getSchemas());
            System.out.println("# getTables(null, null, %, TABLE VIEW ...)");
            String[] types = {"TABLE", "PARTITIONED TABLE", "VIEW", "FOREIGN TABLE", "MATERIALIZED VIEW"};
            List<String[]> tables = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, null, "%", types)) {
                tables = print(rs, "TABLE_SCHEM", "TABLE_NAME");
            }
            for (String[] t : tables) {
                System.out.println("# getColumns(null, " + t[0] + ", " + t[1] + ", null)");
                print(md.getColumns(null, t[0], t[1], null));
                System.out.println("# getPrimaryKeys(null, " + t[0] + ", " + t[1] + ")");
                print(md.getPrimaryKeys(null, t[0], t[1]));
                System.out.println("# getImportedKeys(null, " + t[0] + ", " + t[1] + ")");
                print(md.getImportedKeys(null, t[0], t[1]));
                // Metabase asks whether it may select from a table with a query that
                // reads no row.
                String probe = "SELECT TRUE AS _ FROM \"" + t[0] + "\".\"" + t[1] + "\" WHERE 1 <> 1 LIMIT 0";
                System.out.println("# " + probe);
                try (Statement st = conn.createStatement()) {
                    print(st.executeQuery(probe));
                }
            }
            String query = "SELECT day, events, revenue, label, even, updated_at, ratio FROM views.kpis ORDER BY day LIMIT ?";
            try (PreparedStatement ps = conn.prepareStatement(query)) {
                for (int i = 1; i <= 6; i++) {
                    ps.setInt(1, 2);
                    System.out.println("# execution " + i + ": " + query + " with ? = 2");
                    print(ps.executeQuery());
                }
            }
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(Paths.get(args[2]), "*.sql")) {
                dir.forEach(files::add);
            }
            Collections.sort(files);
            for (Path file : files) {
                runFile(conn, file);
            }
            System.out.println("# SELECT user_id FROM silver.events");
            try (Statement st = conn.createStatement()) {
                print(st.executeQuery("SELECT user_id FROM silver.events"));
            } catch (SQLException e) {
                System.out.println("error " + e.getSQLState() + ": " + e.getMessage());
            }
            System.out.println("# getTables(null, silver, %, null)");
            print(md.getTables(null, "silver", "%", null));
        }
    }

    // runFile runs the query of file, prepared, with the values its "-- ? =" line gives.
    static void runFile(Connection conn, Path file) throws Exception {
        List<String> params = new ArrayList<>();
        StringBuilder query = new StringBuilder();
        boolean header = true;
        for (String line : Files.readAllLines(file)) {
            if (header && line.startsWith("--")) {
                if (line.startsWith("-- ? = ")) {
                    params.addAll(Arrays.asList(line.substring("-- ? = ".length()).split(", ")));
                }
                continue;
            }
            header = false;
            query.append(line).append('\n');
        }
        System.out.println("# " + file.getFileName());
        try (PreparedStatement ps = conn.prepareStatement(query.toString())) {
            for (int i = 0; i < params.size(); i++) {
                String p = params.get(i);
                if (p.matches("-?\\d+")) {
                    ps.setInt(i + 1, Integer.parseInt(p));
                } else {
                    ps.setString(i + 1, p);
                }
            }
            print(ps.executeQuery());
        }
    }

    static void print(ResultSet rs) throws SQLException {
        print(rs, new String[0]);
    }

    // print writes rs's column labels and then its rows, tab-separated, and returns
    // the values of the named columns of each row.
    static List<String[]> print(ResultSet rs, String... keep) throws SQLException {
        List<String[]> kept = new ArrayList<>();
        try (rs) {
            ResultSetMetaData m = rs.getMetaData();
            StringJoiner head = new StringJoiner("\t");
            for (int i = 1; i <= m.getColumnCount(); i++) {
                head.add(m.getColumnLabel(i) + ":" + m.getColumnTypeName(i));
            }
            System.out.println(head);
            while (rs.next()) {
                StringJoiner row = new StringJoiner("\t");
                for (int i = 1; i <= m.getColumnCount(); i++) {
                    Object v = rs.getObject(i);
                    row.add(v == null ? "NULL" : v.toString());
                }
                System.out.println(row);
                String[] k = new String[keep.length];
                for (int i = 0; i < keep.length; i++) {
                    k[i] = rs.getString(keep[i]);
                }
                kept.add(k);
            }
        }
        return kept;
    }
}
