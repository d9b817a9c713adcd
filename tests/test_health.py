from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_health_answers_when_the_service_takes_requests(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_head_answers_where_get_does(client: AsyncTestClient[Litestar]) -> None:
    """Uptime checkers ask HEAD: the page and the liveness probe answer it like GET, without a body."""
    for path in ("/", "/health"):
        got, headed = await client.get(path), await client.head(path)
        assert got.status_code == headed.status_code == 200, (path, headed.text)
        assert headed.content == b""
        assert headed.headers["content-type"] == got.headers["content-type"]
        assert headed.headers["content-length"] == str(len(got.content))


async def test_every_problem_type_is_a_page_on_the_service(client: AsyncTestClient[Litestar]) -> None:
    from service.api.problem_pages import PROBLEMS
    from service.errors import DomainError

    codes: set[str] = set(PROBLEMS)
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        error = pending.pop()
        assert error.code in codes, f"{error.__name__} answers a type with no page: {error.code}"
        pending.extend(error.__subclasses__())
    for code in [*codes, "http_405", "http_413"]:
        page = await client.get(f"/problems/{code}")
        assert page.status_code == 200, code
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
    assert (await client.get("/problems/no_such_thing")).status_code == 404
    refused = await client.get("/api/v1/cases?limit=0")
    problem_type = refused.json()["type"]
    assert problem_type.startswith("/problems/")
    assert (await client.get(problem_type)).status_code == 200  # the answer's type resolves on the service
