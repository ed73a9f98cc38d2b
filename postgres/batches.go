package postgres

// inBatches runs step — one statement over at most batch rows, its own
// transaction — until a step returns fewer than batch rows, or maxBatches
// steps ran, or a step fails. It returns the rows of every step, also with
// the error of the failing one (the steps before it stay committed).
func inBatches(batch int32, maxBatches int, step func(batch int32) (int64, error)) (int64, error) {
	var total int64
	for range maxBatches {
		n, err := step(batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
	return total, nil
}
