"""What the tests share, imported by test modules, conftest fixtures and benchmarks alike.

    tables            write_linear_table: a CSV with a known generating model
    ports             free_port: a loopback port nobody listens on
    servers           LiveServer and make_server: `regression-analyzer serve` in a subprocess;
                      upload, start_analysis, wait_for: the HTTP steps of an analysis
    server_watch      ServerWatch: a server's peak RSS and /health latency, sampled throughout
    cluster           the shared mode's processes: redis-server, nodes, HAProxy
    metrics           scrape, scrape_when: GET /metrics parsed, each sample by its labels
    containers        the docker CLI, the image's constants and a running container
    fake_vendors      local fakes of the Anthropic and OpenAI APIs
    hostile_files     hostile workbooks and CSVs, written byte by byte
    chart_data        make_data: a synthetic fit in ChartData form
    release_fixtures  what earlier releases stored (tests/fixtures/releases/)
    r_reference       the CLI's output against R's values (tests/reference/)
    requirements_lock parse_lock: the entries of requirements*.lock
    startup           one_line: what a refused start printed

Test modules import from here, never from a conftest module or from another test module.
"""
