package pages

// hostRoutes returns the routes of the hosts pages.
func (p *Pages) hostRoutes() []Route { return nil }
