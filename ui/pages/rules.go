package pages

// ruleRoutes returns the routes of the rules pages.
func (p *Pages) ruleRoutes() []Route { return nil }
