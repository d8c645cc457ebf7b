async def test_center_roundtrip(client):
    r = await client.post("/api/v1/centers", json={"name": "Memorial", "acronym": "MSK", "tags": [{"name": "a"}, "b"]})
    assert r.status_code == 201, r.text
    body = r.json()
    print(body)
    r2 = await client.post("/api/v1/centers/", json={"name": "Memorial", "acronym": "MSK"})
    assert r2.status_code == 200
    assert r2.json()["pk"] == body["pk"]
    r = await client.get("/api/v1/centers", params={"tags": "a", "name__icontains": "mem"})
    print(r.json())
    assert r.json()["count"] == 1
    r = await client.get("/api/v1/centers/MSK")
    print(r.status_code, r.text[:300])
    r = await client.get("/api/v1/centers/msk")
    r = await client.patch(f"/api/v1/centers/{body['pk']}", json={"notes": "hi", "tags": []})
    print(r.status_code, r.text[:300])
    r = await client.get("/api/v1/centers?name__foo=1&pk=abc&ordering=nope")
    print(r.status_code, r.text)
    r = await client.delete(f"/api/v1/centers/{body['pk']}")
    assert r.status_code == 204
