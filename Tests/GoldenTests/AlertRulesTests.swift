import Foundation
import Testing
import TestSupport

/// `mlsh alerts --prometheus`: the rules file passes Prometheus' own `promtool check rules`,
/// and `promtool test rules` shows the rules fire as the servers' own evaluation does
/// (Debian's `prometheus` package; `scripts/test` installs it).
@Suite struct AlertRulesTests {
    static var promtool: String? {
        ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func rulesPassPromtoolAndFireOnTheSignals() throws {
        let promtool = try #require(Self.promtool, "promtool is not installed (scripts/test installs Debian's prometheus package)")
        let box = try StoreCommandTests.Sandbox()
        defer { box.cleanup() }
        let script = try box.script("""
            alert("diabetes", "drifting", when="drift_share > 0.3 or rmse > 60", hold="2m")
            alert("diabetes", "bmi", when="drifted(\\"bmi\\") and not (anomaly_share < 0.1)")
            alert("iris", "quiet", when="requests < 1")
            """)
        #expect(try box.mlsh(["run", script, "--quiet"]).code == 0)
        let rules = box.dir + "/rules.yml"
        let written = try box.mlsh(["alerts", "--prometheus", rules])
        #expect(written.code == 0, "\(written.err)")
        let check = try runProgram(promtool, ["check", "rules", rules])
        #expect(check.code == 0 && check.out.contains("SUCCESS: 3 rules found"), "\(check.out)\(check.err)")

        // drift_share rises above 0.3 at minute 3 (rmse never reported): "drifting" fires
        // two minutes later. bmi drifts with anomaly_share 0.5: "bmi" fires at once.
        // iris reports nothing: "quiet" (requests unknown, so the comparison is false) does not fire.
        let test = box.dir + "/rules_test.yml"
        try """
            rule_files: [rules.yml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'mlsh_signal{model_name="diabetes",signal="drift_share",instance="a"}'
                    values: '0.1 0.1 0.1 0.5 0.5 0.5 0.5 0.5'
                  - series: 'mlsh_signal{model_name="diabetes",signal="anomaly_share",instance="a"}'
                    values: '0.5x8'
                  - series: 'mlsh_feature_drifted{model_name="diabetes",feature="bmi",instance="a"}'
                    values: '1x8'
                alert_rule_test:
                  - eval_time: 4m
                    alertname: drifting
                    exp_alerts: []
                  - eval_time: 6m
                    alertname: drifting
                    exp_alerts:
                      - exp_labels: {model: diabetes}
                        exp_annotations: {condition: "drift_share > 0.3 or rmse > 60"}
                  - eval_time: 1m
                    alertname: bmi
                    exp_alerts:
                      - exp_labels: {model: diabetes}
                        exp_annotations: {condition: "drifted(\\"bmi\\") and not (anomaly_share < 0.1)"}
                  - eval_time: 5m
                    alertname: quiet
                    exp_alerts: []
            """.write(toFile: test, atomically: true, encoding: .utf8)
        let unit = try runProgram(promtool, ["test", "rules", test])
        #expect(unit.code == 0 && unit.out.contains("SUCCESS"), "\(unit.out)\(unit.err)")
    }
}
