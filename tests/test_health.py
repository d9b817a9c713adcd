from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_health_answers_when_the_service_takes_requests(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
