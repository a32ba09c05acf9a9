def test_world_pages(login, world):
    c = login("xa_reg")
    assert c.get("/").status_code == 200
    r = c.get("/enterprises/")
    assert r.status_code == 200
    assert "测试E1有限公司" in r.get_data(as_text=True)
    assert "测试E4有限公司" not in r.get_data(as_text=True)
