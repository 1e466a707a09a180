//! The quarterly job end to end: snapshot, outbox, and what a real SMTP server
//! on loopback receives.

use chrono::{Duration, Utc};
use entity::{Facet, job_run, outbox};
use learnmap::jobs::quarterly::{self, Outcome, RunRequest, Trigger};
use learnmap::jobs::scheduler::{self, ScheduleConfig};
use learnmap::mail::{MailConfig, Sender};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::db_test;
use crate::fixtures::{completed, day, scenario, took_course};
use crate::smtp::{Received, SmtpServer};

fn mail_to(server: &SmtpServer) -> MailConfig {
    MailConfig {
        smtp_url: Some(server.url()),
        retry_base: Duration::zero(),
        from: "學習地圖 <learnmap@example.gov.tw>".into(),
        ..MailConfig::default()
    }
}

fn request(quarter: u32, trigger: Trigger, holder: &str) -> RunRequest {
    RunRequest {
        year: 2026,
        quarter,
        dry_run: false,
        trigger,
        holder: holder.into(),
        today: day(2027, 1, 2),
    }
}

fn find<'a>(received: &'a [Received], to: &str, subject_start: &str) -> &'a Received {
    received
        .iter()
        .find(|m| m.to.iter().any(|t| t.contains(to)) && m.subject.starts_with(subject_start))
        .unwrap_or_else(|| panic!("no message to {to} starting {subject_start}: {received:#?}"))
}

db_test! {
    async fn reminds_who_owes_and_digests_their_supervisor(app) {
        scenario(&app).await;
        let server = SmtpServer::start();

        let outcome = quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");
        let report = Sender::new(mail_to(&server)).expect("sender").drain(&app.db).await.expect("drain");

        let Outcome::Ran { run, .. } = outcome else { panic!("the job ran") };
        assert_eq!((run.people, run.reminders, run.digests, run.status.as_str()), (4, 3, 1, "completed"));
        assert_eq!((report.sent, report.retried, report.failed), (4, 0, 0));

        let received = server.received();
        assert_eq!(received.len(), 4);
        let p1 = find(&received, "p1@example.gov.tw", "2026 年第 1 季資通職能訓練時數提醒");
        assert_eq!(p1.subject, "2026 年第 1 季資通職能訓練時數提醒：尚缺 25 小時");
        assert_eq!(p1.to_name, "林小明");
        assert!(p1.text.contains("政策面：應修 3 小時，已修 1 小時，尚缺 2 小時（本季應達 0.75 小時）"), "{}", p1.text);
        assert!(p1.text.contains("管理面：應修 6 小時，已修 0 小時，尚缺 6 小時（本季應達 1.5 小時，進度落後）"), "{}", p1.text);
        assert!(p1.text.contains("技術面（C 級）：應修 8 小時"), "{}", p1.text);
        assert!(p1.text.contains("http://elearning.taipei/elearn/courseinfo/so.php?v="), "recommended links: {}", p1.text);
        assert!(p1.text.contains("請於 2026-12-31 前完成"), "{}", p1.text);
        assert!(p1.html.contains("<td>管理面</td><td>6</td><td>0</td><td>6</td>"), "{}", p1.html);

        let s1 = find(&received, "s1@example.gov.tw", "2026 年第 1 季資通職能訓練時數提醒");
        assert_eq!(s1.subject, "2026 年第 1 季資通職能訓練時數提醒：尚缺 19 小時");

        let p4 = find(&received, "p4@example.edu.tw", "IT competency training");
        assert_eq!(p4.subject, "IT competency training, 2026 Q1: 14 hours still owed");
        assert!(p4.text.contains("- Security (general): 3 h required, 0 h done, 3 h still owed"), "{}", p4.text);

        let digest = find(&received, "s1@example.gov.tw", "2026 年第 1 季所屬同仁");
        assert_eq!(digest.subject, "2026 年第 1 季所屬同仁資通職能訓練進度：1 人落後");
        assert!(digest.text.contains("林小明（P1）：尚缺 25 小時"), "{}", digest.text);
        assert!(!digest.text.contains("王大同"), "P2 is complete: {}", digest.text);
        assert!(received.iter().all(|m| !m.to.iter().any(|t| t.contains("p2@") || t.contains("p3@"))), "no mail to P2 (complete) or P3 (left)");
    }
}

db_test! {
    async fn a_rerun_sends_nothing_new(app) {
        scenario(&app).await;
        let server = SmtpServer::start();
        let sender = Sender::new(mail_to(&server)).expect("sender");

        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("first run");
        sender.drain(&app.db).await.expect("drain");
        let again = quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("rerun");
        let report = sender.drain(&app.db).await.expect("drain again");

        let Outcome::Ran { messages, .. } = again else { panic!("a manual rerun runs") };
        assert_eq!(messages.len(), 4);
        assert!(messages.iter().all(|m| !m.new), "every key was queued before");
        assert_eq!(report.sent, 0);
        assert_eq!(server.received().len(), 4);
        assert_eq!(outbox::Entity::find().count(&app.db).await.expect("count"), 4);
    }
}

db_test! {
    async fn a_failing_server_is_retried_until_it_recovers(app) {
        scenario(&app).await;
        let server = SmtpServer::start();
        let sender = Sender::new(mail_to(&server)).expect("sender");
        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");

        server.fail_next(2);
        server.reject("p4@example.edu.tw");
        let first = sender.drain(&app.db).await.expect("first drain");
        let second = sender.drain(&app.db).await.expect("second drain");
        let third = sender.drain(&app.db).await.expect("third drain");

        assert_eq!((first.sent, first.retried, first.failed), (1, 2, 1));
        assert_eq!((second.sent, second.retried, second.failed), (2, 0, 0));
        assert_eq!((third.sent, third.retried, third.failed), (0, 0, 0));
        assert_eq!(server.received().len(), 3);

        let failed = outbox::Entity::find().filter(outbox::Column::Status.eq("failed")).one(&app.db).await.expect("query").expect("one failed");
        assert_eq!(failed.recipient_no, "P4");
        assert!(failed.last_error.as_deref().is_some_and(|e| e.contains("550")), "{:?}", failed.last_error);
    }
}

/// Log lines written while a future runs, as the service writes them (its
/// default filter, the service's own events down to trace).
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Runs the future with a subscriber that writes here.
    ///
    /// While only one dispatcher exists, tracing-core decides whether a
    /// callsite is on by asking the dispatcher of the thread that reaches it
    /// first, and remembers: a log line first reached by another test, on a
    /// thread with no subscriber, would stay off for this one too. A second,
    /// silent dispatcher alive meanwhile makes it ask every live one.
    async fn capture<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        use tracing::instrument::WithSubscriber;
        let _every_dispatcher_counts = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,sqlx=warn,sea_orm=warn,learnmap=trace",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        future.with_subscriber(subscriber).await
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

db_test! {
    async fn a_refusal_quoting_the_address_is_logged_by_its_code_only(app) {
        scenario(&app).await;
        let server = SmtpServer::start();
        let sender = Sender::new(mail_to(&server)).expect("sender");
        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");
        server.reject_quoting("p4@example.edu.tw");

        let logs = Logs::default();
        let report = logs.capture(sender.drain(&app.db)).await.expect("drain");

        assert_eq!((report.sent, report.retried, report.failed), (3, 0, 1));
        let failed = outbox::Entity::find().filter(outbox::Column::Status.eq("failed")).one(&app.db).await.expect("query").expect("one failed");
        assert_eq!(failed.recipient_no, "P4");

        // The log names the outbox row and the reply code, never the reply's
        // text, which quotes the address.
        let text = logs.text();
        let line = text.lines().find(|l| l.contains("mail not delivered")).unwrap_or_else(|| panic!("no failure logged:\n{text}"));
        assert!(line.contains(&format!("outbox.id={}", failed.id)), "{line}");
        assert!(line.contains("error=SMTP reply 550"), "{line}");
        assert!(!text.contains("p4@example.edu.tw"), "the address reached the log:\n{text}");
        assert!(!text.contains("Recipient address rejected"), "the reply's text reached the log:\n{text}");

        // The outbox row keeps the whole reply for admins: it is the row that
        // holds the recipient's address already, and never leaves the database.
        let stored = failed.last_error.as_deref().unwrap_or_default();
        assert!(stored.contains("550") && stored.contains("Recipient address rejected"), "{stored}");
        assert_eq!(failed.recipient_email, "p4@example.edu.tw");
    }
}

db_test! {
    async fn a_shutdown_lets_the_message_in_flight_finish(app) {
        scenario(&app).await;
        let server = SmtpServer::start();
        server.delay_replies(std::time::Duration::from_millis(400));
        let sender = Sender::new(MailConfig { parallel: 1, ..mail_to(&server) }).expect("sender");
        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");

        let stop = CancellationToken::new();
        let (report, ()) = tokio::join!(sender.drain_until(&app.db, &stop), async {
            while server.arrived() == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            stop.cancel();
        });

        let report = report.expect("drain");
        assert_eq!((report.sent, report.retried, report.failed), (1, 0, 0));
        assert_eq!(server.received().len(), 1, "the message in flight was delivered");
        let rows = outbox::Entity::find().all(&app.db).await.expect("outbox");
        let status = |s: &str| rows.iter().filter(|m| m.status == s).count();
        assert_eq!((status("sent"), status("pending"), status("sending")), (1, 3, 0));
        assert!(rows.iter().filter(|m| m.status == "pending").all(|m| m.attempts == 0 && m.claimed_at.is_none()), "{rows:#?}");

        server.delay_replies(std::time::Duration::ZERO);
        let rest = sender.drain(&app.db).await.expect("next drain");
        assert_eq!(rest.sent, 3);
        assert_eq!(server.received().len(), 4);
    }
}

db_test! {
    async fn a_drain_stopped_before_it_starts_claims_nothing(app) {
        scenario(&app).await;
        let server = SmtpServer::start();
        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");

        let stop = CancellationToken::new();
        stop.cancel();
        let report = Sender::new(mail_to(&server)).expect("sender").drain_until(&app.db, &stop).await.expect("drain");

        assert_eq!(report.sent, 0);
        assert_eq!(server.arrived(), 0);
        let pending = outbox::Entity::find().filter(outbox::Column::Status.eq("pending")).count(&app.db).await.expect("count");
        assert_eq!(pending, 4);
    }
}

db_test! {
    async fn two_schedulers_run_the_quarter_once(app) {
        scenario(&app).await;

        let (a, b) = tokio::join!(
            quarterly::run(&app.db, request(1, Trigger::Schedule, "replica-a")),
            quarterly::run(&app.db, request(1, Trigger::Schedule, "replica-b")),
        );
        let late = quarterly::run(&app.db, request(1, Trigger::Schedule, "replica-c")).await.expect("late run");

        let outcomes = [a.expect("a"), b.expect("b")];
        let ran = outcomes.iter().filter(|o| matches!(o, Outcome::Ran { .. })).count();
        assert_eq!(ran, 1, "{outcomes:?}");
        assert!(matches!(late, Outcome::AlreadyDone { .. }));
        let runs = job_run::Entity::find().filter(job_run::Column::Status.eq("completed")).count(&app.db).await.expect("count");
        assert_eq!(runs, 1);
        assert_eq!(outbox::Entity::find().count(&app.db).await.expect("count"), 4);
    }
}

db_test! {
    async fn a_replica_catches_up_the_last_quarter_once(app) {
        scenario(&app).await;
        let server = SmtpServer::start();
        let schedule = ScheduleConfig { holder: "replica-a".into(), ..ScheduleConfig::default() };
        let tz = scheduler::timezone("Asia/Taipei").expect("zone");
        let (year, quarter) = learnmap::jobs::quarter::last_ended(Utc::now().with_timezone(&tz).date_naive());

        let stop = CancellationToken::new();
        scheduler::run_last_quarter(&app.db, &schedule, &mail_to(&server), Trigger::CatchUp, &stop).await;
        scheduler::run_last_quarter(&app.db, &schedule, &mail_to(&server), Trigger::CatchUp, &stop).await;

        let runs = job_run::Entity::find().all(&app.db).await.expect("runs");
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!((runs[0].year, runs[0].quarter as u32, runs[0].trigger.as_str()), (year, quarter, "catch_up"));
        assert_eq!(server.received().len() as i32, runs[0].reminders + runs[0].digests);
    }
}

db_test! {
    async fn a_quarter_that_found_nobody_runs_once_people_are_imported_without_a_restart(app) {
        let server = SmtpServer::start();
        let schedule = ScheduleConfig {
            holder: "replica-a".into(),
            catch_up_cron: "* * * * * *".into(),
            ..ScheduleConfig::default()
        };
        let shutdown = learnmap::shutdown::Shutdown::new();
        let mut running = scheduler::start(app.db.clone(), schedule, mail_to(&server), shutdown.clone())
            .await
            .expect("scheduler");
        let completed = || job_run::Entity::find().filter(job_run::Column::Status.eq("completed")).count(&app.db);

        // Nobody yet: the catch-up ticks record nothing.
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        assert_eq!(job_run::Entity::find().count(&app.db).await.expect("count"), 0);

        scenario(&app).await;
        let mut waited = 0;
        while completed().await.expect("count") == 0 {
            assert!(waited < 100, "no run within 10 s of the import");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            waited += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        running.shutdown().await.expect("stop the scheduler");
        shutdown.token().cancel();
        assert!(shutdown.finish(std::time::Duration::from_secs(10)).await, "runs finished");

        let runs = job_run::Entity::find().all(&app.db).await.expect("runs");
        assert_eq!(runs.len(), 1, "one run, however many ticks: {runs:?}");
        assert_eq!((runs[0].trigger.as_str(), runs[0].status.as_str()), ("catch_up", "completed"));
        assert_eq!(server.received().len() as i32, runs[0].reminders + runs[0].digests);
    }
}

const SNAPSHOT: &str = r#"query($q: Int!) {
  quarterlyShortfalls(year: 2026, quarter: $q, unitCode: "AG1-SUB", first: 100) {
    totalCount
    edges { node { employeeNo facet securityCategory requiredHours countedHours expectedHours shortfallHours behind status } }
  }
}"#;

db_test! {
    async fn the_snapshot_keeps_what_was_reported(app) {
        scenario(&app).await;
        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");

        completed(&app, "P1", "管理講座", 6, day(2026, 3, 15), (Some(Facet::Management), None, None)).await;
        let before = app.data(SNAPSHOT, json!({ "q": 1 })).await;
        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("rerun");
        let after = app.data(SNAPSHOT, json!({ "q": 1 })).await;

        let management = |data: &serde_json::Value| {
            data["quarterlyShortfalls"]["edges"].as_array().expect("edges").iter()
                .map(|e| e["node"].clone())
                .find(|n| n["employeeNo"] == json!("P1") && n["facet"] == json!("MANAGEMENT"))
                .expect("P1 management")
        };
        // AG1-SUB holds P1 and P2, six lines each (P3 had left by Mar 31).
        assert_eq!(before["quarterlyShortfalls"]["totalCount"], json!(12));
        assert_eq!(management(&before), json!({
            "employeeNo": "P1", "facet": "MANAGEMENT", "securityCategory": null, "requiredHours": 6.0,
            "countedHours": 0.0, "expectedHours": 1.5, "shortfallHours": 6.0, "behind": true, "status": "behind"
        }));
        assert_eq!(management(&after)["countedHours"], json!(6.0));
        assert_eq!(after["quarterlyShortfalls"]["totalCount"], json!(12));

        quarterly::run(&app.db, request(2, Trigger::Cli, "test")).await.expect("Q2 run");
        let q1 = app.data(SNAPSHOT, json!({ "q": 1 })).await;
        assert_eq!(q1["quarterlyShortfalls"]["totalCount"], json!(12), "Q1 is kept when Q2 runs");
    }
}

db_test! {
    async fn a_dry_run_writes_and_sends_nothing(app) {
        scenario(&app).await;
        let query = "mutation { runQuarterlyShortfall(year: 2026, quarter: 1, dryRun: true) { outcome run { dryRun reminders digests } messages { kind recipientNo subject } } }";

        let data = app.data(query, json!({})).await;

        let result = &data["runQuarterlyShortfall"];
        assert_eq!(result["outcome"], json!("ran"));
        assert_eq!(result["run"], json!({ "dryRun": true, "reminders": 3, "digests": 1 }));
        let recipients: Vec<&str> = result["messages"].as_array().expect("messages").iter().filter_map(|m| m["recipientNo"].as_str()).collect();
        assert_eq!(recipients, ["P1", "S1", "P4", "S1"]);
        assert_eq!(outbox::Entity::find().count(&app.db).await.expect("count"), 0);
        let snapshot = app.data(SNAPSHOT, json!({ "q": 1 })).await;
        assert_eq!(snapshot["quarterlyShortfalls"]["totalCount"], json!(0));
    }
}

#[test]
fn the_run_after_new_year_in_taipei_is_q4_of_the_year_before() {
    let tz = scheduler::timezone("Asia/Taipei").expect("zone");
    let new_year_in_taipei = chrono::DateTime::parse_from_rfc3339("2026-12-31T16:30:00Z")
        .expect("instant")
        .with_timezone(&tz);
    assert_eq!(new_year_in_taipei.date_naive(), day(2027, 1, 1));
    assert_eq!(
        learnmap::jobs::quarter::last_ended(new_year_in_taipei.date_naive()),
        (2026, 4)
    );

    let still_december = chrono::DateTime::parse_from_rfc3339("2026-12-31T15:59:59Z")
        .expect("instant")
        .with_timezone(&tz);
    assert_eq!(
        learnmap::jobs::quarter::last_ended(still_december.date_naive()),
        (2026, 3)
    );
}

db_test! {
    async fn a_run_while_imports_commit_sees_each_import_in_every_agency_or_in_none(app) {
        use learnmap::graphql::Caller;

        crate::personnel_import::load_examples(&app).await;

        // Each import adds two people who owe everything, one in DDB and one
        // in DST-JM, two agencies the run reads one after the other. A run
        // that reads one moment reminds both or neither.
        const IMPORTS: usize = 16;
        let schema = app.schema.clone();
        let writer = tokio::spawn(async move {
            for i in 0..IMPORTS {
                let csv = format!(
                    "employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on,technical_background\n\
                     T{i:02}A,讀取一致 甲{i},t{i}a@example.gov.tw,DDB,it_staff,E10001,2020-01-01,,\n\
                     T{i:02}C,讀取一致 丙{i},t{i}c@example.gov.tw,DST-JM,it_staff,,2020-01-01,,\n"
                );
                let request = async_graphql::Request::new(
                    "mutation($csv: String!) { importPeople(csv: $csv, dryRun: false) { rows } }",
                )
                .variables(async_graphql::Variables::from_json(json!({ "csv": csv })))
                .data(Caller::admin());
                let response = schema.execute(request).await;
                assert!(response.errors.is_empty(), "{:?}", response.errors);
            }
        });

        let dry = RunRequest { dry_run: true, ..request(1, Trigger::Cli, "test") };
        let mut runs = Vec::new();
        while !writer.is_finished() || runs.len() < 3 {
            let Outcome::Ran { messages, .. } = quarterly::run(&app.db, dry.clone()).await.expect("run") else {
                panic!("a dry run runs")
            };
            runs.push(messages);
        }
        writer.await.expect("imports");
        let Outcome::Ran { messages, .. } = quarterly::run(&app.db, dry).await.expect("run") else {
            panic!("a dry run runs")
        };
        runs.push(messages);

        let reminded = |messages: &[quarterly::Planned], no: &str| {
            messages.iter().any(|m| m.kind == "reminder" && m.recipient_no == no)
        };
        let mut torn = Vec::new();
        for (run, messages) in runs.iter().enumerate() {
            for i in 0..IMPORTS {
                let (a, c) = (format!("T{i:02}A"), format!("T{i:02}C"));
                if reminded(messages, &a) != reminded(messages, &c) {
                    torn.push((run, i));
                }
            }
        }
        assert!(torn.is_empty(), "runs that saw an import in one agency only (run, import): {torn:?}");
        let last = &runs[runs.len() - 1];
        assert!((0..IMPORTS).all(|i| reminded(last, &format!("T{i:02}A"))), "after the imports every new person is reminded");
    }
}

db_test! {
    async fn a_year_without_rules_is_refused_before_any_run_is_recorded(app) {
        scenario(&app).await;
        let runs = || job_run::Entity::find().count(&app.db);
        let before = runs().await.expect("count");

        let year_2025 = RunRequest { year: 2025, quarter: 4, dry_run: true, ..request(1, Trigger::Cli, "test") };
        let refused = quarterly::run(&app.db, year_2025).await.expect_err("no rules for 2025");
        assert_eq!(refused.to_string(), "year: no rule set is in force for 2025; add one first");
        let far = RunRequest { year: i32::MAX, quarter: 1, dry_run: true, ..request(1, Trigger::Cli, "test") };
        let refused = quarterly::run(&app.db, far).await.expect_err("no such year");
        assert_eq!(refused.to_string(), "year: must be between 2000 and 2100");
        assert_eq!(runs().await.expect("count"), before, "no job_run row for a refused year");
    }
}

db_test! {
    async fn a_run_never_takes_the_lease_another_run_of_its_replica_holds(app) {
        use learnmap::jobs::lease;

        scenario(&app).await;
        let name = "quarterly_shortfall:2026-Q1";

        // Another run of the same server holds the quarter: two admins at
        // once share the server's holder name, as two containers that are
        // each process 1 share the scheduler's.
        assert!(lease::acquire(&app.db, name, "admin-1 run a", Duration::minutes(30)).await.expect("lease"));
        let second = quarterly::run(&app.db, request(1, Trigger::Admin, "admin-1")).await.expect("second");
        assert!(matches!(second, Outcome::Busy), "{second:?}");
        assert_eq!(entity::quarterly_shortfall::Entity::find().count(&app.db).await.expect("count"), 0);

        // Nor does the same name count as the holder's.
        assert!(!lease::acquire(&app.db, name, "admin-1 run b", Duration::minutes(30)).await.expect("lease"));
        assert!(!lease::acquire(&app.db, name, "admin-1 run a", Duration::minutes(30)).await.expect("lease"));

        lease::release(&app.db, name, "admin-1 run a").await.expect("release");
        let Outcome::Ran { run, .. } = quarterly::run(&app.db, request(1, Trigger::Admin, "admin-1")).await.expect("run") else {
            panic!("the quarter is free")
        };
        assert_eq!(entity::quarterly_shortfall::Entity::find().count(&app.db).await.expect("count") as i32, run.lines);
    }
}

db_test! {
    async fn a_run_that_lost_its_lease_keeps_nothing(app) {
        use learnmap::jobs::lease;

        scenario(&app).await;
        let name = "quarterly_shortfall:2026-Q1";
        assert!(lease::acquire(&app.db, name, "slow run", Duration::minutes(30)).await.expect("lease"));
        assert!(lease::confirm(&app.db, name, "slow run", Duration::minutes(30)).await.expect("confirm"));

        // Its time runs out and another run takes the quarter over: the slow
        // one may no longer commit.
        entity::job_lease::Entity::update_many()
            .col_expr(entity::job_lease::Column::ExpiresAt, sea_orm::sea_query::Expr::value(Some(Utc::now() - Duration::hours(1))))
            .exec(&app.db)
            .await
            .expect("expire");
        assert!(lease::acquire(&app.db, name, "next run", Duration::minutes(30)).await.expect("lease"));
        assert!(!lease::confirm(&app.db, name, "slow run", Duration::minutes(30)).await.expect("confirm"));
        assert!(lease::confirm(&app.db, name, "next run", Duration::minutes(30)).await.expect("confirm"));
    }
}

db_test! {
    async fn a_run_whose_process_ended_is_marked_failed_by_the_next(app) {
        use sea_orm::{ActiveModelTrait, Set};

        scenario(&app).await;
        let running = |dry_run: bool, started: Duration| job_run::ActiveModel {
            job: Set(quarterly::JOB.to_string()),
            year: Set(2026),
            quarter: Set(1),
            dry_run: Set(dry_run),
            status: Set("running".into()),
            trigger: Set("cli".into()),
            started_at: Set(Utc::now() - started),
            finished_at: Set(None),
            people: Set(0),
            lines: Set(0),
            reminders: Set(0),
            digests: Set(0),
            error: Set(None),
            ..Default::default()
        };
        let stale = running(false, Duration::minutes(5)).insert(&app.db).await.expect("a run killed mid-way");
        let stale_dry = running(true, Duration::hours(2)).insert(&app.db).await.expect("a dry run killed long ago");
        let dry_now = running(true, Duration::seconds(5)).insert(&app.db).await.expect("a dry run going on");

        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");

        let db = &app.db;
        let status = |id: i32| async move {
            let run = job_run::Entity::find_by_id(id).one(db).await.expect("read").expect("kept");
            (run.status, run.error, run.finished_at.is_some())
        };
        let failed = (
            "failed".to_string(),
            Some("stopped before it finished (its process ended); nothing of it was kept".to_string()),
            true,
        );
        assert_eq!(status(stale.id).await, failed);
        assert_eq!(status(stale_dry.id).await, failed, "a dry run older than a lease has stopped too");
        assert_eq!(status(dry_now.id).await, ("running".to_string(), None, false), "a dry run may be going on");
        let completed = job_run::Entity::find().filter(job_run::Column::Status.eq("completed")).count(&app.db).await.expect("count");
        assert_eq!(completed, 1);
    }
}

db_test! {
    async fn a_reminder_recommends_no_course_taken_before_the_window_or_after_the_quarter(app) {
        scenario(&app).await;
        took_course(&app, "P1", "淺談 e 化數位治理", day(2023, 5, 2)).await;
        took_course(&app, "P1", "數位平權", day(2026, 4, 2)).await;

        quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run");

        let reminder = outbox::Entity::find()
            .filter(outbox::Column::RecipientNo.eq("P1"))
            .one(&app.db)
            .await
            .expect("query")
            .expect("P1's reminder");
        // As in `compliance`: both 2-hour policy courses are taken, so the
        // policy gap of 2 h gets the other 2-hour course.
        assert!(reminder.text_body.contains("混合辦公資安議題與因應教育訓練"), "{}", reminder.text_body);
        for taken in ["淺談 e 化數位治理", "數位平權"] {
            assert!(!reminder.text_body.contains(taken), "{taken} recommended again: {}", reminder.text_body);
        }
    }
}

db_test! {
    async fn the_digest_of_a_supervisor_who_has_left_goes_to_the_one_above(app) {
        scenario(&app).await;
        // S1 leaves on 2026-12-31, before the runs of 2027-01-02; D1 is above S1.
        let people = "employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on\n\
                      S1,陳主管,s1@example.gov.tw,AG1,it_supervisor,D1,2020-01-01,2026-12-31\n\
                      D1,吳處長,d1@example.gov.tw,AG1,it_supervisor,,2020-01-01,\n";
        let import = "mutation($p: String!) { importPeople(csv: $p) { created updated } }";
        let data = app.data(import, json!({ "p": people })).await;
        assert_eq!(data["importPeople"], json!({ "created": 1, "updated": 1 }));
        let digests = |quarter: &'static str| {
            outbox::Entity::find()
                .filter(outbox::Column::Kind.eq("digest"))
                .filter(outbox::Column::Key.ends_with(quarter))
                .all(&app.db)
        };

        // Q1: S1 is evaluated (still there on March 31) but gets no mail;
        // P1, behind, is in D1's digest instead of S1's.
        let Outcome::Ran { run, .. } = quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run") else {
            panic!("the job ran")
        };
        assert_eq!((run.people, run.reminders, run.digests), (5, 3, 1), "S1, P1, P2, P4, D1; P1, P4 and D1 reminded");
        let q1 = digests(":2026:Q1").await.expect("query");
        assert_eq!(q1.iter().map(|m| m.recipient_no.as_str()).collect::<Vec<_>>(), ["D1"]);
        assert_eq!(q1[0].subject, "2026 年第 1 季所屬同仁資通職能訓練進度：1 人落後");
        assert!(q1[0].text_body.contains("林小明（P1）：尚缺 25 小時"), "{}", q1[0].text_body);
        assert!(!q1[0].text_body.contains("S1"), "S1 has left: {}", q1[0].text_body);

        // Q2: D1 leaves too, and N1 above D1 joins only in March 2027: no
        // one above is employed on the day of the run, so no digest at all.
        let people = "employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on\n\
                      D1,吳處長,d1@example.gov.tw,AG1,it_supervisor,N1,2020-01-01,2026-12-31\n\
                      N1,鄭新任,n1@example.gov.tw,AG1,it_supervisor,,2027-03-01,\n";
        app.data(import, json!({ "p": people })).await;
        let Outcome::Ran { run, .. } = quarterly::run(&app.db, request(2, Trigger::Cli, "test")).await.expect("run") else {
            panic!("the job ran")
        };
        assert_eq!((run.people, run.reminders, run.digests), (5, 2, 0), "P1 and P4 reminded");
        assert!(digests(":2026:Q2").await.expect("query").is_empty());
    }
}

db_test! {
    async fn a_quarter_leaves_out_who_joins_after_it_and_digests_leave_out_who_has_left(app) {
        scenario(&app).await;
        // P1 leaves at the end of Q2; P5 joins in Q2, with nothing done.
        let people = "employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on\n\
                      P1,林小明,p1@example.gov.tw,AG1-SUB,it_staff,S1,2020-01-01,2026-06-30\n\
                      P5,周新進,p5@example.gov.tw,AG1-SUB,it_staff,S1,2026-05-01,\n";
        let data = app.data("mutation($p: String!) { importPeople(csv: $p) { created updated } }", json!({ "p": people })).await;
        assert_eq!(data["importPeople"], json!({ "created": 1, "updated": 1 }));
        let digest_to_s1 = |quarter: &'static str| {
            outbox::Entity::find()
                .filter(outbox::Column::RecipientNo.eq("S1"))
                .filter(outbox::Column::Key.ends_with(quarter))
                .filter(outbox::Column::Kind.eq("digest"))
                .one(&app.db)
        };

        // Q1: P5 had not joined; P1 was there, behind, but has left by the
        // day of the run (2027-01-02), so there is no one left to digest.
        let Outcome::Ran { run, .. } = quarterly::run(&app.db, request(1, Trigger::Cli, "test")).await.expect("run") else {
            panic!("the job ran")
        };
        assert_eq!((run.people, run.reminders, run.digests), (4, 2, 0), "S1, P1, P2, P4 evaluated; S1 and P4 reminded");
        assert!(digest_to_s1(":2026:Q1").await.expect("query").is_none());

        // Q2: P5 is evaluated and behind; P1 still counts in the snapshot,
        // gets no reminder and is not in the digest.
        let Outcome::Ran { run, .. } = quarterly::run(&app.db, request(2, Trigger::Cli, "test")).await.expect("run") else {
            panic!("the job ran")
        };
        assert_eq!((run.people, run.reminders, run.digests), (5, 3, 1), "P5 joins the four; S1, P4 and P5 reminded");
        let digest = digest_to_s1(":2026:Q2").await.expect("query").expect("S1's Q2 digest");
        assert!(digest.text_body.contains("周新進（P5）"), "{}", digest.text_body);
        assert!(!digest.text_body.contains("P1"), "P1 has left: {}", digest.text_body);

        let refused = app
            .error(r#"{ compliance(employeeNo: "P5", year: 2026, asOf: "2026-03-31") { status } }"#, json!({}))
            .await;
        assert_eq!(
            refused["message"],
            json!("asOf: P5 joins on 2026-05-01, so is not evaluated as of 2026-03-31, as in unit reports and reminders; ask for a date from 2026-05-01")
        );
        let unit = app.data(r#"{ unitCompliance(unitCode: "AG1", year: 2026, asOf: "2026-03-31") { people } }"#, json!({})).await;
        assert_eq!(unit["unitCompliance"]["people"], json!(3), "S1, P1 and P2");
    }
}
