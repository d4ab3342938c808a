import Testing
@testable import MLShEngine

@Suite struct FormatterTests {
    @Test func irisGolden() throws {
        let iris = try bundledDataset("iris")
        #expect(TableFormatter().render(iris, name: "iris") == """
            sepal_length  sepal_width  petal_length  petal_width  species
                   float        float         float        float  string
                     5.1          3.5           1.4          0.2  setosa
                     4.9          3.0           1.4          0.2  setosa
                     4.7          3.2           1.3          0.2  setosa
                     4.6          3.1           1.5          0.2  setosa
                     5.0          3.6           1.4          0.2  setosa
                       …            …             …            …  …
                     6.7          3.0           5.2          2.3  virginica
                     6.3          2.5           5.0          1.9  virginica
                     6.5          3.0           5.2          2.0  virginica
                     6.2          3.4           5.4          2.3  virginica
                     5.9          3.0           5.1          1.8  virginica
            iris: 150 rows × 5 columns
            """)
    }

    @Test func smallAndTruncated() throws {
        #expect(TableFormatter().render(try people()) == """
             id  name    score  ok
            int  string  float  bool
              3  cat       2.5  true
              1  ant        NA  false
              2  NA        1.0  true
              1  bee       2.5  true
              5  ant      -1.0  false
            5 rows × 4 columns
            """)
        #expect(TableFormatter(maxRows: 4, maxColumns: 3, maxCellWidth: 6).render(try people()) == """
             id  name    …  ok
            int  string     bool
              3  cat     …  true
              1  ant     …  false
              …  …       …  …
              1  bee     …  true
              5  ant     …  false
            5 rows × 4 columns
            """)
        let odd = try Table(names: ["a long column name", "t"],
                            columns: [Column(floats: [1e-07, 1e300]), Column(strings: ["line\nbreak", "x"])])
        #expect(TableFormatter(maxCellWidth: 8).render(odd) == """
            a long …  t
               float  string
               1e-07  line\\nb…
              1e+300  x
            2 rows × 2 columns
            """)
        #expect(TableFormatter().render(try Table(names: [], columns: [])) == "0 rows × 0 columns")
        #expect(TableFormatter().render(try Table(names: ["x"], columns: [Column(ints: [7])])) == "  x\nint\n  7\n1 row × 1 column")
    }

    @Test func longFloatsShowSixSignificantDigits() {
        let f = TableFormatter()
        #expect([5.005999999999999, -0.03285239685543084, 123456789.123, 1e-07, 0.1, 0.9672791696148854, 1e300]
            .map(f.displayFloat) == ["5.006", "-0.0328524", "123456789.1", "1e-07", "0.1", "0.967279", "1e+300"])
    }

    @Test func columns() throws {
        let iris = try bundledDataset("iris")
        #expect(TableFormatter().render(try iris.column("sepal_length"), name: "sepal_length") ==
                "sepal_length: float[150]\n[5.1, 4.9, 4.7, 4.6, 5.0, …, 6.7, 6.3, 6.5, 6.2, 5.9]")
        #expect(TableFormatter().render(Column(strings: ["a", nil]), name: "s") == "s: string[2]\n[\"a\", NA]")
        #expect(TableFormatter().render(Column(bools: [true, false], validity: [true, false]), name: "b") == "b: bool[2]\n[true, NA]")
    }
}
