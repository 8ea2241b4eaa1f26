//! The organizer's dashboard in a real browser (Debian's headless Chromium through
//! chromedriver), against a server filled by real syncs from two venues: it asks for the
//! organizer token, lists the exam, shows each venue's freshness, every candidate's scores
//! (sortable, filterable), the score histograms and what needs a look, in both languages.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use fantoccini::Locator;
use sqlexam_core::grade::Verdict;
use sqlexam_core::problem::Expectation;
use sqlexam_server::model::Role;
use sqlexam_sync::sync_pass;
use sqlexam_tests::browser::{attrs, browser, click, screenshot, texts, type_in, wait, wait_text};
use sqlexam_tests::{Api, Device, Machine, TestServer, ndjson, organizer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organizer_reads_the_results_of_two_venues_in_the_dashboard() {
    let org = organizer(2);
    let server = TestServer::start(&org.trust, 1).await;
    let api = Api::new(&server.url);
    api.upload(&server.organizer, &org).await;
    let now = sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc());
    let mut venue_tokens = Vec::new();
    for room in ["Room A", "Room B"] {
        let (token, hash) = sqlexam_server::new_token().unwrap();
        server
            .store
            .add_token(&hash, Role::Venue, room, &now)
            .await
            .unwrap();
        venue_tokens.push(token);
    }

    // Three candidates in Room A and B sit the exam and sync as the app does.
    let answer = |p: usize, e: Expectation| (org.problems[p].id.clone(), org.answer(p, e));
    let sittings = [
        (
            "0007",
            0,
            vec![
                answer(0, Expectation::Accepted),
                answer(1, Expectation::Accepted),
            ],
        ),
        (
            "0012",
            0,
            vec![
                answer(0, Expectation::WrongAnswer),
                answer(0, Expectation::Accepted),
            ],
        ),
        ("0031", 1, vec![answer(1, Expectation::WrongAnswer)]),
    ];
    let mut machines = Vec::new();
    for (candidate, room, answers) in sittings {
        let m = tokio::task::block_in_place(|| Machine::exam(&org, candidate, &answers));
        let client = sqlexam_tests::sync_client(&server.url, &venue_tokens[room]);
        sync_pass(&m.engine, &client, true, &|_: usize| {})
            .await
            .unwrap();
        machines.push(m);
    }
    // A fourth machine in Room B whose second record never arrived: a gap to look at.
    let mut gapped = Device::new(&org, "s-gapped", "0044");
    let start = gapped.start();
    let _lost = gapped.push(Device::submission(
        &org.problems[0],
        1,
        "SELECT 1",
        Verdict::WrongAnswer,
        0,
    ));
    let late = gapped.push(Device::submission(
        &org.problems[0],
        2,
        "SELECT 2",
        Verdict::WrongAnswer,
        0,
    ));
    let batch = api
        .post_batch(&venue_tokens[1], ndjson(&[start, late]))
        .await;
    assert_eq!(batch.status, 200, "{}", batch.text);
    // Candidate 0031 again, on a spare machine in Room A: a second session, withheld until
    // the organizer decides.
    let mut spare = Device::new(&org, "s-spare", "0031");
    spare.start();
    spare.push(Device::honest(
        &org.problems[0],
        1,
        &org.answer(0, Expectation::Accepted),
    ));
    let batch = api
        .post_batch(&venue_tokens[0], ndjson(&spare.records))
        .await;
    assert_eq!(batch.status, 200, "{}", batch.text);
    api.wait_regraded(&server.organizer, &org.pack_id, Duration::from_secs(240))
        .await;

    let (_driver, c) = browser().await;
    c.goto(&format!("{}/", server.url)).await.unwrap();
    // A wrong token is said, and the page asks again.
    type_in(&c, "[data-testid=token]", "not-a-token").await;
    click(&c, "[data-testid=sign-in]").await;
    wait_text(&c, "[data-testid=error]", "not accepted").await;
    // A venue token is no organizer's.
    type_in(&c, "[data-testid=token]", &venue_tokens[0]).await;
    click(&c, "[data-testid=sign-in]").await;
    wait_text(&c, "[data-testid=error]", "forbidden").await;
    click(&c, "[data-testid=sign-out]").await;
    type_in(&c, "[data-testid=token]", &server.organizer).await;
    click(&c, "[data-testid=sign-in]").await;
    click(&c, &format!("[data-testid=exam-{}]", org.pack_id)).await;
    wait(&c, "[data-testid=results-table]").await;

    // Venues with their freshness; every candidate, the top scorer first.
    assert_eq!(
        attrs(&c, "[data-testid=venue-card]", "data-venue").await,
        vec!["Room A", "Room B"]
    );
    for fresh in texts(&c, "[data-testid=freshness]").await {
        assert!(
            fresh.contains("just now") || fresh.contains("min ago"),
            "{fresh}"
        );
    }
    let full = org.problems[0].points + org.problems[1].points;
    assert_eq!(
        attrs(&c, "[data-testid=candidate-row]", "data-candidate").await,
        vec!["0007", "0012", "0031", "0044"]
    );
    assert_eq!(
        texts(&c, "[data-testid=total]").await[0],
        format!("{full} / {full}")
    );
    // Sorted the other way round by the total, then by id.
    click(&c, "[data-testid=sort-total] button").await;
    let ascending = attrs(&c, "[data-testid=candidate-row]", "data-candidate").await;
    assert_eq!(ascending.last().unwrap(), "0007", "{ascending:?}");
    click(&c, "[data-testid=sort-candidate] button").await;
    assert_eq!(
        attrs(&c, "[data-testid=candidate-row]", "data-candidate").await,
        vec!["0044", "0031", "0012", "0007"]
    );
    // Filtered by venue, then by id.
    let select = c
        .find(Locator::Css("[data-testid=venue-filter]"))
        .await
        .unwrap();
    select.select_by_value("Room B").await.unwrap();
    assert_eq!(
        attrs(&c, "[data-testid=candidate-row]", "data-candidate").await,
        vec!["0044", "0031"]
    );
    c.find(Locator::Css("[data-testid=venue-filter]"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    type_in(&c, "[data-testid=filter]", "0012").await;
    assert_eq!(
        attrs(&c, "[data-testid=candidate-row]", "data-candidate").await,
        vec!["0012"]
    );
    c.find(Locator::Css("[data-testid=filter]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    c.find(Locator::Css("[data-testid=filter]"))
        .await
        .unwrap()
        .send_keys(" ")
        .await
        .unwrap();

    // Histograms: one for the total and one per problem, each counting every candidate.
    let charts = c
        .find_all(Locator::Css("[data-testid^=histogram-]"))
        .await
        .unwrap();
    assert_eq!(charts.len(), 1 + org.problems.len());
    let counted: u32 = attrs(&c, "[data-testid=histogram-total] rect", "data-count")
        .await
        .iter()
        .map(|n| n.parse::<u32>().unwrap())
        .sum();
    assert_eq!(counted, 4);
    // No relay here: no relay banner.
    assert!(c.find(Locator::Css("[data-testid=relay]")).await.is_err());
    // Problems by their titles from the pack.
    assert_eq!(
        wait(
            &c,
            &format!("[data-testid=sort-{}] button", org.problems[0].id)
        )
        .await
        .text()
        .await
        .unwrap(),
        org.problems[0].title.en
    );
    // What needs a look: the second session, and the gap.
    assert_eq!(
        attrs(&c, "[data-testid=flag-row]", "data-kind").await,
        vec!["second_session", "gap"]
    );
    assert_eq!(
        attrs(&c, "[data-testid=withheld-row]", "data-session").await,
        vec!["s-spare"]
    );
    screenshot(&c, "13-dashboard-en").await;
    // Deciding needs a note; with one, the spare machine's answer counts.
    click(&c, "[data-testid=count-it]").await;
    wait_text(&c, "[data-testid=error]", "Write why").await;
    type_in(&c, "#note-s-spare", "moved to a spare machine at 10:12").await;
    click(&c, "[data-testid=count-it]").await;
    wait(&c, "[data-testid=no-withheld]").await;
    let row = wait(
        &c,
        "[data-testid=candidate-row][data-candidate='0031'] [data-testid=total]",
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(row, format!("{} / {full}", org.problems[0].points));
    click(&c, "[data-testid=lang-ja]").await;
    let heading = wait(&c, "#results-h").await.text().await.unwrap();
    assert_eq!(heading, "受験者");
    screenshot(&c, "13-dashboard-ja").await;
    c.close().await.unwrap();

    // The CLICS shapes contest tools read.
    let board = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/scoreboard.json", org.pack_id),
        )
        .await;
    assert_eq!(board.json["rows"][0]["rank"], 1, "{}", board.text);
    assert_eq!(board.json["rows"][0]["team_id"], "0007");
    assert_eq!(board.json["rows"][0]["score"]["score"], full);
    let tsv = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/results.tsv", org.pack_id),
        )
        .await;
    let lines: Vec<&str> = tsv.text.lines().collect();
    assert_eq!(lines[0], "results\t1");
    assert!(
        lines[1].starts_with(&format!("0007\t1\tRanked\t{full}\t")),
        "{}",
        tsv.text
    );
    assert_eq!(lines.len(), 1 + 4);
    let flags = api
        .get(
            &server.organizer,
            &format!("/v1/exams/{}/flags", org.pack_id),
        )
        .await;
    assert_eq!(flags.json["decisions"][0]["session"], "s-spare");
    assert_eq!(flags.json["decisions"][0]["count"], true);
    drop(machines);
    server.stop().await;
}
