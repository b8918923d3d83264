def test_home_shows_empty_state(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Nothing is watched yet" in response.data
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_init_reports_database(runner):
    result = runner.invoke("init")
    assert result.exit_code == 0, result.output
    assert "database ready" in result.output
